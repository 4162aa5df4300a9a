#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading: read with `pread` (optionally past the page cache, `O_DIRECT`) or mapped a window
/// at a time. Nothing maps the whole file unless it asks to, so a process's address space holds only what it is
/// reading (`RLIMIT_AS`), and a window's pages leave the resident set when it is unmapped.
///
/// Every call goes through `ReadCalls`, so tests can inject faults.
package final class ReadOnlyFile: @unchecked Sendable {
    package let path: String
    package let size: Int
    package let calls: any ReadCalls
    private let descriptor: Int32
    /// The same file opened with `O_DIRECT`, or -1 where the file system refuses it (tmpfs, some overlays).
    private let directDescriptor: Int32

    /// The page size: mappings start on it, and `O_DIRECT` reads are aligned to it.
    package static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Opens `path`.
    /// - Throws: `FormatError.io` naming the failing call and its errno text.
    package init(path: String, calls: any ReadCalls = PosixReadCalls()) throws(FormatError) {
        self.path = path
        self.calls = calls
        let descriptor = calls.open(path, flags: O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", reason: errnoText()) }
        guard let size = calls.regularFileSize(descriptor) else {
            let reason = errno == EINVAL ? "not a regular file" : errnoText()
            _ = calls.close(descriptor)
            throw .io(path: path, operation: "open", reason: reason)
        }
        self.descriptor = descriptor
        self.size = size
        directDescriptor = Self.directFlag.map { calls.open(path, flags: O_RDONLY | O_CLOEXEC | $0) } ?? -1
    }

    /// Linux's `O_DIRECT`, which Glibc's module map leaves out (it needs `_GNU_SOURCE`); its value differs by CPU.
    private static var directFlag: Int32? {
        #if os(Linux) && arch(x86_64)
        0o40000
        #elseif os(Linux) && arch(arm64)
        0o200000
        #else
        nil
        #endif
    }

    deinit {
        _ = calls.close(descriptor)
        if directDescriptor >= 0 { _ = calls.close(directDescriptor) }
    }

    /// Whether `readDirect` bypasses the page cache on this file.
    package var supportsDirectReads: Bool { directDescriptor >= 0 }

    /// Reads exactly `destination.count` bytes at `offset`, retrying interrupted and short reads.
    /// - Throws: `FormatError.io` for a failed read, or one that meets the end of the file first.
    package func read(into destination: UnsafeMutableRawBufferPointer, at offset: Int) throws(FormatError) {
        try read(descriptor, into: destination, at: offset, allowingEnd: false)
    }

    /// Reads `destination.count` bytes at `offset` past the page cache (`O_DIRECT`), or through it where the file
    /// system cannot: the offset, the count and the destination must be multiples of `pageSize`. Bytes past the end
    /// of the file are left untouched.
    /// - Throws: `FormatError.io` for a failed read.
    package func readDirect(into destination: UnsafeMutableRawBufferPointer, at offset: Int) throws(FormatError) {
        precondition(offset % Self.pageSize == 0 && destination.count % Self.pageSize == 0
                     && Int(bitPattern: destination.baseAddress) % Self.pageSize == 0, "unaligned direct read")
        try read(directDescriptor >= 0 ? directDescriptor : descriptor, into: destination, at: offset, allowingEnd: true)
    }

    /// Drops the page cache's copy of `range` of the file, where nothing maps it, so that the next read comes from the
    /// disk (and, mapped with `populate`, in 2 MiB folios).
    package func evictFromPageCache(_ range: Range<Int>) {
        calls.evict(descriptor, offset: range.lowerBound, length: range.count)
    }

    /// Maps `range` of the file read-only, from the page that holds its start.
    /// - Parameter populate: fault every page in now, so that later reads of the window never wait, reading what the
    ///   page cache lacks in 2 MiB folios (`ReadCalls.map`).
    /// - Throws: `FormatError.io` when the range lies outside the file or the mapping is refused (`RLIMIT_AS`).
    package func map(_ range: Range<Int>, populate: Bool = false) throws(FormatError) -> FileWindow {
        guard range.lowerBound >= 0, range.upperBound <= size else {
            throw .io(path: path, operation: "mmap", reason: "bytes \(range) lie outside the file's \(size)")
        }
        let start = range.lowerBound / Self.pageSize * Self.pageSize
        let length = max(range.upperBound - start, 1)
        guard let base = calls.map(descriptor, offset: start, length: length, populate: populate) else {
            throw .io(path: path, operation: "mmap of \(length) bytes", reason: errnoText())
        }
        return FileWindow(file: self, mapping: base, mappingLength: length, range: range, startOffset: start)
    }

    private func read(_ descriptor: Int32, into destination: UnsafeMutableRawBufferPointer, at offset: Int, allowingEnd: Bool) throws(FormatError) {
        var done = 0
        while done < destination.count {
            // A direct read stops at the end of the file (its last page is short).
            if allowingEnd, offset + done >= size { return }
            let count = calls.pread(descriptor, UnsafeMutableRawBufferPointer(rebasing: destination[done...]), offset: offset + done)
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read of \(destination.count) bytes at offset \(offset)", reason: errnoText())
            }
            if count == 0 {
                if allowingEnd { return }
                throw .io(path: path, operation: "read of \(destination.count) bytes at offset \(offset)",
                          reason: "the file ends at \(offset + done)")
            }
            done += count
        }
    }
}

/// A mapped window of a `ReadOnlyFile`, unmapped when released: its pages leave the resident set with it.
package final class FileWindow: @unchecked Sendable {
    package let file: ReadOnlyFile
    /// The file bytes asked for, `range` of the file.
    package let bytes: UnsafeRawBufferPointer
    package let range: Range<Int>
    private let mapping: UnsafeRawPointer
    private let mappingLength: Int
    private let startOffset: Int

    fileprivate init(file: ReadOnlyFile, mapping: UnsafeRawPointer, mappingLength: Int, range: Range<Int>, startOffset: Int) {
        self.file = file
        self.mapping = mapping
        self.mappingLength = mappingLength
        self.range = range
        self.startOffset = startOffset
        bytes = UnsafeRawBufferPointer(start: mapping + (range.lowerBound - startOffset), count: range.count)
    }

    deinit { file.calls.unmap(mapping, length: mappingLength) }

    /// How far beyond a touched page a read fault may map pages of a window: fault-around, and on current kernels
    /// the whole large folio the page cache holds the page in (a PMD, 2 MiB; measured on Linux 6.18: one touched
    /// byte mapped up to 512 KiB). A reader that releases what it read widens the release by this much.
    package static let faultAroundReach = 2 << 20

    /// Bytes of the window the kernel maps with 2 MiB pages, or nil when unknown. A window the page cache holds in
    /// small folios gets none, however it is aligned.
    package var largePageBytes: Int? { file.calls.largePageBytes(mappedAt: mapping) }

    /// Bytes of a large page: what one large folio of the page cache maps as (a PMD).
    package static let largePageSize = 2 << 20

    /// Whole, aligned `largePageSize` stretches of the file inside `range`: the most of it large folios could map as
    /// large pages.
    package static func largePageCount(in range: Range<Int>) -> Int {
        let firstBoundary = (range.lowerBound + largePageSize - 1) / largePageSize * largePageSize
        return max(0, (range.upperBound - firstBoundary) / largePageSize)
    }

    /// `largePageCount(in:)` of the window's range.
    package var largePageCount: Int { Self.largePageCount(in: range) }

    /// The window's view of file bytes `fileRange`, which must lie inside the window.
    package func bytes(_ fileRange: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(fileRange.lowerBound >= range.lowerBound && fileRange.upperBound <= range.upperBound, "\(fileRange) outside the window \(range)")
        return UnsafeRawBufferPointer(rebasing: bytes[(fileRange.lowerBound - range.lowerBound)..<(fileRange.upperBound - range.lowerBound)])
    }

    /// Drops the pages covering file bytes `fileRange` (rounded outward, clipped to the window) from the resident
    /// set (`MADV_DONTNEED`); read again, they are mapped again from the page cache.
    package func release(_ fileRange: Range<Int>) {
        let page = ReadOnlyFile.pageSize
        let start = max(fileRange.lowerBound, range.lowerBound) / page * page
        let end = min(fileRange.upperBound, range.upperBound)
        guard end > start else { return }
        let roundedEnd = min((end + page - 1) / page * page, startOffset + mappingLength)
        file.calls.advise(mapping + (start - startOffset), length: roundedEnd - start, MADV_DONTNEED)
    }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}
