#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the readers make, behind a protocol so tests can inject short reads, failed reads and
/// refused mappings (the writer's counterpart is `FileSystemCalls`).
///
/// Each mirrors its POSIX namesake: a negative result (or nil mapping) means failure with `errno` set.
package protocol ReadCalls: Sendable {
    func open(_ path: String, flags: Int32) -> Int32
    /// The size of a regular file, or nil (with `errno` set) when it cannot be read or is not a regular file.
    func regularFileSize(_ descriptor: Int32) -> Int?
    func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int
    /// `mmap(nil, length, PROT_READ, MAP_PRIVATE [| MAP_POPULATE], descriptor, offset)`.
    func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer?
    func unmap(_ address: UnsafeRawPointer, length: Int)
    func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32)
    func close(_ descriptor: Int32) -> Int32
}

/// The real system calls.
package struct PosixReadCalls: ReadCalls {
    package init() {}

    package func open(_ path: String, flags: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.open(path, flags)
        #else
        Darwin.open(path, flags)
        #endif
    }

    package func regularFileSize(_ descriptor: Int32) -> Int? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            errno = EINVAL
            return nil
        }
        return Int(status.st_size)
    }

    package func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int {
        #if canImport(Glibc)
        Glibc.pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
        #else
        Darwin.pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
        #endif
    }

    package func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer? {
        #if canImport(Glibc)
        let flags = MAP_PRIVATE | (populate ? MAP_POPULATE : 0)
        #else
        let flags = MAP_PRIVATE
        #endif
        let address = mmap(nil, length, PROT_READ, flags, descriptor, off_t(offset))
        guard let address, address != MAP_FAILED else { return nil }
        return UnsafeRawPointer(address)
    }

    package func unmap(_ address: UnsafeRawPointer, length: Int) {
        munmap(UnsafeMutableRawPointer(mutating: address), length)
    }

    package func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32) {
        _ = madvise(UnsafeMutableRawPointer(mutating: address), length, advice)
    }

    package func close(_ descriptor: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(descriptor)
        #else
        Darwin.close(descriptor)
        #endif
    }
}
