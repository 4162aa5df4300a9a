#if canImport(Glibc)
import Glibc
#endif

/// What `bench` reports about the machine it runs on.
enum MachineInfo {
    /// The CPU's model name from /proc/cpuinfo.
    static var cpuModel: String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
                return String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" })
            }
        }
        return "unknown CPU"
    }
}
