#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary file a `ContainerWriter` fills before renaming it onto its destination, `.<name>.tmp-<pid>` in the
/// destination's folder, and the removal of those that killed writers left behind.
///
/// A writer removes its temporary file on any error and when it is released, and `wstream pack` removes it on
/// SIGINT, SIGTERM and SIGHUP; only SIGKILL, a crash or a power cut leave one. The process id in the name tells
/// whether its writer may still be running, so a later writer in the same folder can remove it safely.
public enum WriterTemporaryFile {
    /// A temporary file that `removeAbandoned(besides:)` removed.
    public struct Abandoned: Sendable, Equatable {
        public let path: String
        /// The process that was writing it, which no longer runs.
        public let processID: pid_t
    }

    /// `<folder>/.<name>.tmp-<processID>` for the destination `<folder>/<name>`.
    /// - Parameters:
    ///   - destination: the path of the finished file.
    ///   - processID: the writing process (this one by default).
    public static func path(for destination: String, processID: pid_t = getpid()) -> String {
        let (folder, name) = split(destination)
        return "\(folder.map { $0 + "/" } ?? "").\(name).tmp-\(processID)"
    }

    /// Removes the temporary files in the folder of `destination` that writers which no longer run left behind.
    ///
    /// A file is removed only when its name is `.<name>.tmp-<pid>`, no process `pid` exists (`kill(pid, 0)` fails
    /// with `ESRCH`; a live process, even one of another user, keeps its file), it is a regular file, and it begins
    /// as only a writer's file can: with zeros (the header is written last) or the container's magic. Files that
    /// cannot be read or removed are left alone.
    /// - Parameter destination: the path a writer is about to write.
    /// - Returns: the files removed.
    @discardableResult
    public static func removeAbandoned(besides destination: String) -> [Abandoned] {
        let folder = split(destination).folder.map { $0.isEmpty ? "/" : $0 } ?? "."
        var removed: [Abandoned] = []
        for name in names(in: folder) {
            guard let owner = writer(ofFileNamed: name), !isRunning(owner) else { continue }
            let path = (folder == "/" ? "" : folder) + "/" + name
            guard beginsAsAWritersFile(path), unlink(path) == 0 else { continue }
            removed.append(Abandoned(path: path, processID: owner))
        }
        return removed
    }

    /// The process that writes the temporary file called `name`, or nil when `name` is not `.<name>.tmp-<pid>`.
    static func writer(ofFileNamed name: String) -> pid_t? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let stem = name[..<dash], digits = name[name.index(after: dash)...]
        guard stem.hasPrefix("."), stem.hasSuffix(".tmp"), stem.count >= ".x.tmp".count,
              !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = pid_t(digits), pid > 0 else { return nil }
        return pid
    }

    /// Whether process `pid` exists (a zombie or another user's process counts as running).
    private static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Whether `path` is a regular file whose first bytes (up to a header's worth) are zeros or the container's magic.
    private static func beginsAsAWritersFile(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        var bytes = [UInt8](repeating: 0, count: ContainerHeader.size)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return false }
        let start = bytes[0..<count]
        return start.allSatisfy { $0 == 0 } || start.starts(with: ContainerHeader.magic.prefix(count))
    }

    /// The entries of `folder`, without `.` and `..`; empty when it cannot be listed.
    private static func names(in folder: String) -> [String] {
        guard let handle = opendir(folder) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The folder (nil for a bare name) and the file name of `path`.
    private static func split(_ path: String) -> (folder: String?, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (nil, path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}
