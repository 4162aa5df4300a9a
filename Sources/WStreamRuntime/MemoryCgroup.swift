#if canImport(Glibc)
import Glibc
#endif

/// Memory cgroups: the limit this process runs under (`currentLimit()`), and groups made for child processes, with a
/// limit on the memory they may use — page cache they fill included — removed when released. cgroup v2 where its
/// memory controller is available, v1 otherwise.
///
/// Making one needs write access to the cgroup file system (root, usually): `init` says why when it cannot.
public final class MemoryCgroup {
    /// The group's folder.
    public let path: String
    /// The limit in bytes.
    public let limit: Int
    private let version: Int

    /// Creates the group `name` with `limit` bytes of memory (and no swap beyond it).
    /// - Throws: `RuntimeError.cgroupUnavailable` saying why no group can be made here.
    public init(name: String, limit: Int) throws {
        self.limit = limit
        if let controllers = CgroupHierarchy.read("/sys/fs/cgroup/cgroup.controllers"), controllers.split(separator: " ").contains(where: { $0.hasPrefix("memory") }) {
            version = 2
            path = "/sys/fs/cgroup/" + name
        } else if access("/sys/fs/cgroup/memory", W_OK) == 0 {
            version = 1
            path = "/sys/fs/cgroup/memory/" + name
        } else {
            throw RuntimeError.cgroupUnavailable("no writable memory cgroup here (neither cgroup v2's memory controller nor a writable /sys/fs/cgroup/memory)")
        }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw RuntimeError.cgroupUnavailable("cannot create the memory cgroup \(path): \(String(cString: strerror(errno)))")
        }
        let settings = version == 2 ? [("memory.max", "\(limit)"), ("memory.swap.max", "0")]
                                    : [("memory.limit_in_bytes", "\(limit)"), ("memory.memsw.limit_in_bytes", "\(limit)")]
        for (file, value) in settings {
            // Swap accounting may be off; the memory limit itself is what matters.
            if !Self.write(value, to: path + "/" + file), file == settings[0].0 {
                rmdir(path)
                throw RuntimeError.cgroupUnavailable("cannot set \(path)/\(file): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit { rmdir(path) }

    /// A command that runs `executable` with `arguments` inside the group: a shell that moves itself in, then execs.
    public func command(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        ("/bin/sh", ["-c", "echo $$ > '\(path)/cgroup.procs' && exec \"$0\" \"$@\"", executable] + arguments)
    }

    /// The most memory the group's processes have used together (page cache included).
    public var peakBytes: Int? {
        CgroupHierarchy.read(path + (version == 2 ? "/memory.peak" : "/memory.max_usage_in_bytes")).flatMap { Int($0.filter(\.isNumber)) }
    }

    /// Processes of the group the kernel killed for memory.
    public var outOfMemoryKills: Int {
        let text = CgroupHierarchy.read(path + (version == 2 ? "/memory.events" : "/memory.oom_control")) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("oom_kill ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// The limit of the group this process runs in, or nil when no group above it limits memory below the machine's
    /// physical memory (cgroup v1 or v2; the smallest limit of its group and the groups above).
    public static func currentLimit() -> Int? {
        currentLimit(readFile: CgroupHierarchy.read)
    }

    /// The limit, reading `/proc/self/mountinfo`, `/proc/self/cgroup` and the cgroup files through `readFile`.
    static func currentLimit(readFile: (String) -> String?) -> Int? {
        var limits: [Int] = []
        for hierarchy in CgroupHierarchy.groups(controller: "memory", readFile: readFile) {
            let file = hierarchy.version == .v2 ? "/memory.max" : "/memory.limit_in_bytes"
            for directory in hierarchy.directories {
                if let text = readFile(directory + file), let value = Int(text.trimmingCharacters(in: " \n")) { limits.append(value) }
            }
        }
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        return limits.filter { $0 < physical }.min()
    }

    /// Writes dirty pages out and drops the page cache (`/proc/sys/vm/drop_caches`), so that a run reads from the disk.
    /// - Returns: false when the kernel refused (not root).
    @discardableResult
    public static func dropCaches() -> Bool {
        sync()
        return write("3", to: "/proc/sys/vm/drop_caches")
    }

    private static func write(_ text: String, to path: String) -> Bool {
        guard let file = fopen(path, "w") else { return false }
        let written = fputs(text, file) >= 0
        return fclose(file) == 0 && written
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
