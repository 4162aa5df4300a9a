#if canImport(Glibc)
import Glibc
#endif
import WStreamProcess

/// A worker child: `wstream` run again with the worker's arguments, its output in files.
final class WorkerProcess {
    private let pid: pid_t
    private let errorPath: String

    init(arguments: [String], output: String) throws(CommandFailure) {
        errorPath = output + ".stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output + ".stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let executable = CommandRunner.currentExecutable
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else { throw CommandFailure("cannot start \(executable): \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    /// How the child ended, or nil while it runs.
    func poll() -> Termination? {
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return nil }
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// What the child's standard error says about how it ended: the crash report's or fatal error's line, else the
    /// last line.
    var lastErrorLine: String {
        guard let file = fopen(errorPath, "r") else { return "" }
        defer { fclose(file) }
        var last = "", cause: String?
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.filter { $0 != "\n" }
            if cause == nil, line.contains("Program crashed") || line.contains("Fatal error") { cause = line }
            if !line.isEmpty { last = line }
        }
        return cause ?? last
    }
}
