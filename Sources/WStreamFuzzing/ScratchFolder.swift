#if canImport(Glibc)
import Glibc
#endif

/// A folder of its own for the files a target writes each input to: in memory (`/dev/shm`) where it can be, so an
/// input costs no disk I/O. Removed with its files when released.
final class ScratchFolder {
    let path: String
    private var names: Set<String> = []
    private var folders: [String] = []

    /// - Throws: `FuzzingError.scratch` when the folder cannot be made.
    init() throws(FuzzingError) {
        let parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
        var template = Array("\(parent)/wstream-fuzz-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw .scratch(path: parent, operation: "mkdtemp", reason: String(cString: strerror(errno)))
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        for name in names { unlink(file(name)) }
        for folder in folders.reversed() { rmdir(file(folder)) }
        rmdir(path)
    }

    /// Makes folder `name` inside this one (files written as `name/…` then go there).
    /// - Returns: its path.
    /// - Throws: `FuzzingError.scratch` when it cannot be made.
    @discardableResult
    func makeFolder(_ name: String) throws(FuzzingError) -> String {
        let target = file(name)
        guard mkdir(target, 0o755) == 0 || errno == EEXIST else {
            throw .scratch(path: target, operation: "mkdir", reason: String(cString: strerror(errno)))
        }
        if !folders.contains(name) { folders.append(name) }
        return target
    }

    /// The path of file `name` in this folder.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` as file `name`, replacing what it held.
    /// - Returns: the file's path.
    /// - Throws: `FuzzingError.scratch` when the file cannot be written.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer, as name: String) throws(FuzzingError) -> String {
        let target = file(name)
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .scratch(path: target, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        names.insert(name)
        var done = 0
        while done < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw .scratch(path: target, operation: "write", reason: String(cString: strerror(errno))) }
            done += written
        }
        return target
    }

    /// Removes file `name` if this folder holds it.
    func remove(_ name: String) {
        guard names.remove(name) != nil else { return }
        unlink(file(name))
    }
}
