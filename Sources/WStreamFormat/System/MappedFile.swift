#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only (`open`, `fstat`, `mmap(PROT_READ, MAP_PRIVATE)`), unmapped in deinit.
///
/// The only place the reader touches raw file memory; callers get bounds-checked views.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let pageSize: Int

    /// - Throws: `FormatError.io` naming the failing call and its errno text; `.tooShort` for an empty file.
    init(path: String, minimumSize: Int) throws(FormatError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", reason: errnoText()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io(path: path, operation: "fstat", reason: errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, operation: "open", reason: "not a regular file") }
        let size = Int(status.st_size)
        guard size >= minimumSize else { throw .tooShort(file: path, size: size, needed: minimumSize) }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw .io(path: path, operation: "mmap", reason: errnoText()) }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }

    /// `madvise(advice)` over the pages covering `offset ..< offset + length` (rounded outward, clipped to the file).
    func advise(offset: Int, length: Int, _ advice: Int32) {
        guard length > 0, offset >= 0, offset < bytes.count, let base = bytes.baseAddress else { return }
        let start = offset / pageSize * pageSize
        let end = min(bytes.count, offset + min(length, bytes.count - offset))
        let roundedEnd = (end + pageSize - 1) / pageSize * pageSize
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), roundedEnd - start, advice)
    }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}
