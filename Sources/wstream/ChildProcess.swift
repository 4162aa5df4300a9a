#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// A run of another program, for `bench`: its exit status and standard error.
struct ChildProcess {
    /// Exit status; nil when a signal ended the child.
    let exitStatus: Int32?
    let signal: Int32?
    let stderr: String

    /// Runs `executable` with `arguments`, standard output discarded, standard error kept in a temporary
    /// file (not a pipe, which could fill up and block the child while this process waits).
    /// - Throws: `ValidationError` when the child cannot be started.
    static func run(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        var template = Array("/tmp/wstream-bench-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ValidationError("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        let errPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        close(fd)
        defer { unlink(errPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_TRUNC, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ValidationError("cannot start \(executable): \(String(cString: strerror(spawned)))") }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signalled = (status & 0x7f) != 0
        return ChildProcess(
            exitStatus: signalled ? nil : (status >> 8) & 0xff, signal: signalled ? status & 0x7f : nil,
            stderr: (try? TextFile.read(errPath)) ?? "")
    }

    /// This executable, so a child runs the same build.
    static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }
}
