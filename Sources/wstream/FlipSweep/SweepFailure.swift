#if canImport(Glibc)
import Glibc
#endif

/// The sweep itself could not run: a file it needs could not be read or written, or a worker could not start.
struct SweepFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// A system call on `path` failed; the errno text is added.
    init(path: String, operation: String) {
        description = "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
    }
}
