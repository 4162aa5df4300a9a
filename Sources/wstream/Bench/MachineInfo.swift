#if canImport(Glibc)
import Glibc
#endif

/// What `bench` reports about the machine it runs on.
enum MachineInfo {
    /// The CPU's model name from /proc/cpuinfo.
    static var cpuModel: String { cpuinfo("model name") ?? "unknown CPU" }

    /// The vector instruction sets among the CPU's flags that the kernels care about, e.g. `avx2 avx512f avx512_vnni`.
    static var vectorFlags: String {
        let wanted: Set<Substring> = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "asimd", "asimddp"]
        let flags = (cpuinfo("flags") ?? cpuinfo("Features") ?? "").split(separator: " ").filter { wanted.contains($0) }
        return flags.isEmpty ? "none of AVX2, AVX-512, NEON" : flags.joined(separator: " ")
    }

    /// The value of the first line of /proc/cpuinfo that starts with `key`.
    private static func cpuinfo(_ key: String) -> String? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix(key), let colon = text.firstIndex(of: ":") {
                return String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" })
            }
        }
        return nil
    }
}
