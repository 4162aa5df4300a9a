#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An exclusive `flock` on a lock file that holds the owner's PID, so that a second server stops at once and
/// names the first. The kernel drops the lock when its holder exits, however it exits: a crash never
/// leaves a stale lock, and the file itself is never removed (removing it would race with a new holder).
public final class InstanceLock: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>

    /// Takes the lock at `path`, creating the file (and its folder, one level) when missing.
    /// - Throws: `ServerError.alreadyRunning` with the holder's PID when another process holds it;
    ///   `ServerError.stateDirectoryUnusable` when the file cannot be opened.
    public init(path: String) throws {
        self.path = path
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !folder.isEmpty, mkdir(folder, 0o700) != 0, errno != EEXIST { throw ServerError.stateDirectoryUnusable(path: folder, errno: errno) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ServerError.stateDirectoryUnusable(path: path, errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPID(descriptor)
            close(descriptor)
            throw ServerError.alreadyRunning(pid: holder, lockFile: path)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = Mutex(descriptor)
    }

    /// Gives the lock up (also done when the process exits).
    public func release() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    deinit { release() }

    private static func readPID(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).filter(\.isNumber))
    }
}
