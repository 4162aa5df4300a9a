#if canImport(Glibc)
import Glibc
#endif
@_exported import WStreamProcess

/// The release build of the `wstream` CLI, which the end-to-end tests run as a child process.
///
/// The release binary, not the debug one: the budget tests measure real peak memory, and `make test`
/// builds it before the tests run.
public enum WStreamExecutable {
    /// `<repository>/.build/release/wstream`.
    public static let path = SharedModels.repositoryRoot + "/.build/release/wstream"

    /// Runs `wstream` with `arguments`.
    /// - Parameters:
    ///   - killAfter: send `signal` after this many seconds if it is still running.
    ///   - signal: `SIGKILL` by default; another is waited for (see `CommandRunner.run`).
    /// - Throws: `CommandRunnerError` naming the build command when the binary is missing.
    public static func run(_ arguments: [String], killAfter: Double? = nil, signal: Int32 = SIGKILL) throws -> CommandResult {
        try CommandRunner.run(try checkedPath(), arguments, killAfter: killAfter, signal: signal)
    }

    /// Runs `wstream` with `arguments` under a file-size limit (`setrlimit(RLIMIT_FSIZE)` in the child, through the
    /// shell's `ulimit -f`, in 512-byte blocks, which sets it before `exec`): a write past `bytes` fails as on a full disk.
    public static func run(_ arguments: [String], fileSizeLimit bytes: Int) throws -> CommandResult {
        try CommandRunner.run("/bin/sh", ["-c", "ulimit -f \(max(1, bytes / 512)) && exec \"$0\" \"$@\"", try checkedPath()] + arguments)
    }

    /// Runs `wstream` with `arguments` under an address-space limit (`setrlimit(RLIMIT_AS)` in the child, through
    /// the shell's `ulimit -v`, which sets it before `exec`).
    public static func run(_ arguments: [String], addressSpaceLimit bytes: Int) throws -> CommandResult {
        try CommandRunner.run("/bin/sh", ["-c", "ulimit -v \(bytes / 1024) && exec \"$0\" \"$@\"", try checkedPath()] + arguments)
    }

    /// `path`, or an error naming the build command when the binary is missing.
    private static func checkedPath() throws -> String {
        guard access(path, X_OK) == 0 else {
            throw CommandRunnerError(message: """
                \(path) is missing: the end-to-end tests run the release binary. \
                Build it with `swift build -c release --product wstream` (or run the tests with `make test`).
                """)
        }
        return path
    }

    /// Runs `wstream` with `arguments`.
    public static func run(_ arguments: String...) throws -> CommandResult {
        try run(arguments)
    }
}
