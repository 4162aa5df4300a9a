#if canImport(Glibc)
import Glibc
#endif

/// A memory cgroup for a child process, with a limit on the memory it may use (page cache it fills included), removed
/// when released: cgroup v2 where its memory controller is available, v1 otherwise.
///
/// Making one needs write access to the cgroup file system (root, usually); `init` says why when it cannot.
public final class LimitedMemoryGroup {
    /// Why no group could be made here.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The group's folder.
    public let path: String
    /// The limit in bytes.
    public let limit: Int
    private let version: Int

    /// Creates the group `name` with `limit` bytes of memory and no swap beyond it.
    /// - Throws: `Unavailable` saying why no group can be made here.
    public init(name: String, limit: Int) throws {
        self.limit = limit
        if let controllers = Self.contents("/sys/fs/cgroup/cgroup.controllers"), controllers.split(separator: " ").contains(where: { $0.hasPrefix("memory") }) {
            version = 2
            path = "/sys/fs/cgroup/" + name
        } else if access("/sys/fs/cgroup/memory", W_OK) == 0 {
            version = 1
            path = "/sys/fs/cgroup/memory/" + name
        } else {
            throw Unavailable(description: "no writable memory cgroup here (neither cgroup v2's memory controller nor a writable /sys/fs/cgroup/memory)")
        }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Unavailable(description: "cannot create the memory cgroup \(path): \(String(cString: strerror(errno)))")
        }
        let settings = version == 2 ? [("memory.max", "\(limit)"), ("memory.swap.max", "0")]
                                    : [("memory.limit_in_bytes", "\(limit)"), ("memory.memsw.limit_in_bytes", "\(limit)")]
        for (file, value) in settings {
            let written = Self.write(value, to: path + "/" + file)
            // Swap accounting may be off: only the memory limit itself must take.
            guard written || file != settings[0].0 else {
                let reason = String(cString: strerror(errno))
                rmdir(path)
                throw Unavailable(description: "cannot set \(path)/\(file): \(reason)")
            }
        }
    }

    deinit { rmdir(path) }

    /// Runs `executable` with `arguments` inside the group (a shell moves itself in, then execs) and waits for it.
    public func run(_ executable: String, _ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run("/bin/sh", ["-c", "echo $$ > '\(path)/cgroup.procs' && exec \"$0\" \"$@\"", executable] + arguments)
    }

    /// The most memory the group's processes have used together (page cache included).
    public var peakBytes: Int? {
        Self.contents(path + (version == 2 ? "/memory.peak" : "/memory.max_usage_in_bytes")).flatMap { Int($0.filter(\.isNumber)) }
    }

    /// Processes of the group the kernel killed for want of memory.
    public var outOfMemoryKills: Int {
        let text = Self.contents(path + (version == 2 ? "/memory.events" : "/memory.oom_control")) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("oom_kill ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    private static func write(_ text: String, to path: String) -> Bool {
        guard let file = fopen(path, "w") else { return false }
        let written = fputs(text, file) >= 0
        return fclose(file) == 0 && written
    }

    private static func contents(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { text += buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
        return text
    }
}
