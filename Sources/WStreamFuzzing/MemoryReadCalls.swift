#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat

/// The reader's system calls served from one file held in memory, so a `.wst` input is opened, streamed and
/// decoded exactly as a file would be, with no file system underneath.
///
/// The bytes lie in one page-aligned allocation of exactly the file's size: a "mapping" is a pointer into it, so a
/// read past the end of the file is a read past the allocation, which AddressSanitizer reports.
final class MemoryReadCalls: ReadCalls, @unchecked Sendable {
    private let path: String
    private let storage: UnsafeMutableRawBufferPointer
    private let size: Int
    private static let descriptor: Int32 = 1000

    /// - Parameters:
    ///   - path: the only path `open` finds.
    ///   - bytes: the file's contents, copied.
    init(path: String, bytes: [UInt8]) {
        self.path = path
        size = bytes.count
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: ReadOnlyFile.pageSize)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
    }

    deinit { storage.deallocate() }

    func open(_ path: String, flags: Int32) -> Int32 {
        guard path == self.path else {
            errno = ENOENT
            return -1
        }
        return Self.descriptor
    }

    func regularFileSize(_ descriptor: Int32) -> Int? { size }

    func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int {
        guard offset >= 0 else {
            errno = EINVAL
            return -1
        }
        let count = max(0, min(buffer.count, size - offset))
        if count > 0 { buffer.baseAddress!.copyMemory(from: storage.baseAddress! + offset, byteCount: count) }
        return count
    }

    func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer? {
        guard offset >= 0, offset % ReadOnlyFile.pageSize == 0, offset <= size, length > 0 else {
            errno = EINVAL
            return nil
        }
        return UnsafeRawPointer(storage.baseAddress! + offset)
    }

    func unmap(_ address: UnsafeRawPointer, length: Int) {}

    func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32) {}

    func close(_ descriptor: Int32) -> Int32 { 0 }
}
