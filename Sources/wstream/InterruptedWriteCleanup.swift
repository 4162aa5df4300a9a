#if canImport(Glibc)
import Glibc
#endif

/// Removes a command's temporary output file when SIGINT, SIGTERM or SIGHUP ends the process, then lets the signal
/// end it as it would have (exit status 128 + the signal number in a shell), so an interrupted `pack` leaves
/// neither a file at its destination nor a temporary one beside it.
///
/// The handler may run on any thread at any moment, so it does only what is async-signal-safe: `unlink` of a path
/// prepared in advance, then the default action of the signal. A rename that has already happened leaves the
/// finished file in place (the `unlink` then finds nothing); one that has not yet happened then fails, as the file is
/// gone, and the process ends before it could report it.
enum InterruptedWriteCleanup {
    static let signals = [SIGINT, SIGTERM, SIGHUP]

    /// Installs the handlers for `path` (the writer's temporary file); call once, before the file is created.
    /// The path stays registered for the life of the process: only this process writes a file of that name.
    /// A signal the process was started ignoring (SIGHUP under `nohup`, SIGINT in a shell's background job) stays
    /// ignored.
    static func install(removing path: String) {
        temporaryPath = strdup(path)
        for signal in signals {
            let previous = Glibc.signal(signal, removeTemporaryFileAndEnd)
            if isIgnore(previous) { _ = Glibc.signal(signal, SIG_IGN) }
        }
    }

    private static func isIgnore(_ handler: __sighandler_t?) -> Bool {
        unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}

/// The temporary file's path as a C string, allocated before the handlers are installed and never freed, as a handler
/// may read it at any moment. Written once, before any handler can run.
nonisolated(unsafe) private var temporaryPath: UnsafeMutablePointer<CChar>?

/// The handler: remove the file, restore the default action, unblock the signal (the kernel blocks it while its
/// handler runs) and raise it again, which ends the whole process at once.
private func removeTemporaryFileAndEnd(_ signal: Int32) {
    if let temporaryPath { unlink(temporaryPath) }
    _ = Glibc.signal(signal, SIG_DFL)
    var unblocked = sigset_t()
    sigemptyset(&unblocked)
    sigaddset(&unblocked, signal)
    pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    raise(signal)
}
