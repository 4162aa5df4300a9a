#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    /// It called `exit` with this status.
    case exited(Int32)
    /// A signal ended it (a crash, or the kill the runner was asked for).
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let status): return "exit status \(status)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// What a finished child process left behind.
public struct CommandResult: Sendable, CustomStringConvertible {
    public let arguments: [String]
    public let termination: Termination
    public let stdout: String
    public let stderr: String
    /// `rusage.ru_maxrss` from `wait4`, in bytes. An upper bound only: Linux folds the spawning process's
    /// high-water mark into the child's at `exec`, so from a large test runner every child looks that large.
    /// Budget checks read the child's own VmHWM instead (`run --stats-json`).
    public let peakResidentBytes: Int
    public let seconds: Double

    /// The exit status, or nil when a signal ended the process.
    public var exitStatus: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }

    /// Ended by `exit(0)`.
    public var succeeded: Bool { termination == .exited(0) }

    /// Everything a failing expectation should show.
    public var description: String {
        "`\(arguments.joined(separator: " "))`: \(termination), peak RSS \(peakResidentBytes >> 10) KiB, \(seconds) s\n"
            + "--- stdout\n\(stdout.suffix(4000))\n--- stderr\n\(stderr.suffix(4000))"
    }
}

/// Why a child process could not be started.
public struct CommandRunnerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// Runs a program as a child process and reports its output, exit status and peak memory.
///
/// Standard output and error go to temporary files rather than pipes, so a chatty child never blocks on a
/// full pipe while the parent waits for it. The child is reaped with `wait4`, whose `rusage` carries the
/// kernel's peak RSS of exactly that child.
public enum CommandRunner {
    /// Runs `executable` with `arguments` and waits for it.
    /// - Parameters:
    ///   - executable: path of the program.
    ///   - arguments: its arguments (without the program name).
    ///   - killAfter: send `signal` after this many seconds if the child is still running.
    ///   - signal: what `killAfter` sends: `SIGKILL`, or a signal the child may handle (it is then waited for, and
    ///     killed at `timeout` if it has not ended by then).
    ///   - timeout: kill the child after this many seconds in any case, so a hang fails the test instead of the suite.
    /// - Throws: `CommandRunnerError` when the program cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], killAfter: Double? = nil, signal: Int32 = SIGKILL, timeout: Double = 300
    ) throws -> CommandResult {
        let outPath = try temporaryFile()
        defer { unlink(outPath) }
        let errPath = try temporaryFile()
        defer { unlink(errPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let started = monotonicSeconds()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw CommandRunnerError(message: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }

        var status: Int32 = 0
        var usage = rusage()
        var signalled = false
        // Polls often at first, so that short children return at once, then every 20 ms: a benchmark's child has
        // every core busy, and a parent waking every 2 ms took one of them from it 500 times a second.
        var pause: useconds_t = 1_000
        while true {
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                throw CommandRunnerError(message: "wait4 on \(executable): \(String(cString: strerror(errno)))")
            }
            let elapsed = monotonicSeconds() - started
            if let killAfter, !signalled, elapsed >= killAfter, signal != SIGKILL {
                kill(pid, signal)
                signalled = true
            }
            if elapsed >= min(signal == SIGKILL ? killAfter ?? timeout : timeout, timeout) {
                kill(pid, SIGKILL)
                while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
                break
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
        let seconds = monotonicSeconds() - started

        let termination: Termination = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        return CommandResult(
            arguments: [executable] + arguments, termination: termination,
            stdout: contents(of: outPath), stderr: contents(of: errPath),
            peakResidentBytes: Int(usage.ru_maxrss) * 1024, seconds: seconds)
    }

    /// This executable, so that a child runs the same build.
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// A new empty file under /tmp for one of the child's output streams.
    private static func temporaryFile() throws -> String {
        var template = Array("/tmp/wstream-child-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw CommandRunnerError(message: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        close(descriptor)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text a child wrote to `path` (empty when it cannot be read).
    private static func contents(of path: String) -> String {
        guard let file = fopen(path, "rb") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}
