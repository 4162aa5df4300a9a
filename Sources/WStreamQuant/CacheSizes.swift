import Glibc

/// The sizes of this machine's data caches, from Linux's sysfs (`/sys/devices/system/cpu/cpu0/cache`).
///
/// Two figures depend on them: how much of the next product an idle worker reads ahead into its L2
/// (`ProductSchedule`), and how large the memory probe's buffer must be for its figure to be the memory's
/// rather than the cache's (`BandwidthProbe`).
public enum CacheSizes {
    /// Bytes of one core's second-level cache; 1 MiB when sysfs does not say.
    public static let secondLevel: Int = bytes(level: 2) ?? 1 << 20

    /// Bytes of the last-level cache, summed over its instances (one per socket, or per core complex on AMD);
    /// 32 MiB when sysfs does not say.
    public static let lastLevel: Int = totalBytes(level: 4) ?? totalBytes(level: 3) ?? 32 << 20

    /// The data or unified cache of `level` that sysfs lists for CPU 0.
    static func bytes(level: Int) -> Int? { cache(level: level, cpu: 0)?.bytes }

    /// The sizes of the distinct caches of `level` across the CPUs, summed; nil when sysfs lists none.
    static func totalBytes(level: Int) -> Int? {
        var instances: [String: Int] = [:]
        var cpu = 0
        while access("/sys/devices/system/cpu/cpu\(cpu)", F_OK) == 0 {
            if let found = cache(level: level, cpu: cpu) { instances[found.sharedWith] = found.bytes }
            cpu += 1
        }
        return instances.isEmpty ? nil : instances.values.reduce(0, +)
    }

    /// CPU `cpu`'s data or unified cache of `level`: its size and the CPUs that share it (`shared_cpu_list`).
    private static func cache(level: Int, cpu: Int) -> (bytes: Int, sharedWith: String)? {
        for index in 0..<8 {
            let folder = "/sys/devices/system/cpu/cpu\(cpu)/cache/index\(index)/"
            guard let listed = read(folder + "level").flatMap({ Int($0) }) else { break }
            guard listed == level, read(folder + "type") != "Instruction" else { continue }
            guard let bytes = read(folder + "size").flatMap(parse) else { return nil }
            return (bytes, read(folder + "shared_cpu_list") ?? "cpu \(cpu)")
        }
        return nil
    }

    /// A size as sysfs writes it (`48K`, `2048K`, `260M`), in bytes; nil otherwise.
    static func parse(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        guard let last = text.last else { return nil }
        let unit = units[last] ?? 1
        guard let value = Int(units[last] == nil ? text : String(text.dropLast())), value > 0 else { return nil }
        return value * unit
    }

    /// The first line of a small text file, without its newline.
    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}
