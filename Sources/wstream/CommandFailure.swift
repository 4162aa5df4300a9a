#if canImport(Glibc)
import Glibc
#endif

/// A command that could not do its work for a reason other than its arguments: an unreadable input file, inputs
/// that do not go together. ArgumentParser prints it as `Error: …` and exits 1 — no usage text, which is for bad
/// arguments (`ValidationError`, exit 64) only.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// A system call on `path` failed; the errno text is added.
    init(path: String, operation: String) {
        description = "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
    }
}
