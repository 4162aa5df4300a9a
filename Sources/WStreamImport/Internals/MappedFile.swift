#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat

/// A whole file mapped read-only (`mmap(PROT_READ, MAP_PRIVATE)`); pages are read on first touch, never loaded up front.
///
/// The mapping lives as long as the object; tensor sources hold a reference so the file stays mapped while they are used.
final class MappedFile: @unchecked Sendable {
    let path: String
    let size: Int
    /// Start of the mapping; immutable and read-only, which is what makes sharing across threads safe.
    let base: UnsafeRawPointer

    /// - Throws: `ImportError.unreadable` when the file cannot be opened or mapped, `.truncated` when it is empty.
    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ImportError.unreadable(file: path, reason: Self.errorText()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ImportError.unreadable(file: path, reason: Self.errorText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ImportError.unreadable(file: path, reason: "not a regular file")
        }
        size = Int(status.st_size)
        guard size > 0 else { throw ImportError.truncated(file: path, what: "header", offset: 0, needed: 8, fileSize: 0) }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else { throw ImportError.unreadable(file: path, reason: Self.errorText()) }
        base = UnsafeRawPointer(mapped)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// The whole mapping as bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Throws unless `offset..<offset+count` lies inside the file.
    func checkRange(offset: Int, count: Int, tensor: String) throws {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard offset >= 0, count >= 0, !overflow, end <= size else {
            throw ImportError.tensorOutOfBounds(
                file: path, tensor: tensor, start: offset, end: overflow ? Int.max : end, fileSize: size)
        }
    }

    /// Drops the pages around `offset..<offset+count` from this process's resident set (`madvise(MADV_DONTNEED)`).
    ///
    /// Reading a model row by row would otherwise keep every page read resident: 2.3 GB of RSS to pack a 1.2B
    /// model. The pages stay in the page cache; a later read of the same bytes just maps them again.
    func releasePages(offset: Int, count: Int) {
        // Widened like the container reader's releases: a read fault maps the cached pages around it too
        // (fault-around, and the whole large folio on current kernels), which would otherwise stay resident.
        let window = ContainerReader.releaseWindow
        let start = offset / window * window
        let end = min((offset + count + window - 1) / window * window, (size + 4095) / 4096 * 4096)
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
