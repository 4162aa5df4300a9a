#if canImport(Glibc)
import Glibc
#endif

/// The memory cgroup limit the process runs under (cgroup v1 or v2), read from `/proc/self/cgroup` and the cgroup
/// file system: the smallest limit of its group and the groups above it.
public enum MemoryCgroup {
    /// The limit in bytes, or nil when no group above the process limits memory below the machine's physical memory.
    public static func currentLimit() -> Int? {
        currentLimit(membership: contents(of: "/proc/self/cgroup") ?? "", read: contents(of:))
    }

    /// The limit for a process whose `/proc/self/cgroup` reads `membership`, reading cgroup files through `read`.
    static func currentLimit(membership: String, read: (String) -> String?) -> Int? {
        var limits: [Int] = []
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            let (root, file): (String, String)
            if fields[0] == "0" && fields[1].isEmpty {
                (root, file) = ("/sys/fs/cgroup", "memory.max")
            } else if controllers.contains("memory") {
                (root, file) = ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
            } else {
                continue
            }
            var path = String(fields[2])
            while true {
                let directory = root + (path == "/" ? "" : path)
                if let text = read(directory + "/" + file), let value = Int(text.trimmingCharacters(in: " \n")) {
                    limits.append(value)
                }
                guard path != "/", let slash = path.lastIndex(of: "/") else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        return limits.filter { $0 < physical }.min()
    }

    /// A small text file's contents, or nil.
    static func contents(of path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { text += String(cString: buffer) }
        return text
    }
}

extension String {
    /// The text without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }), let last = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}
