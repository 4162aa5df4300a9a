#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The system calls the readers make, behind a protocol so tests can inject short reads, failed reads and
/// refused mappings (the writer's counterpart is `FileSystemCalls`).
///
/// Each mirrors its POSIX namesake: a negative result (or nil mapping) means failure with `errno` set.
package protocol ReadCalls: Sendable {
    func open(_ path: String, flags: Int32) -> Int32
    /// The size of a regular file, or nil (with `errno` set) when it cannot be read or is not a regular file.
    func regularFileSize(_ descriptor: Int32) -> Int?
    func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int
    /// `mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, offset)`; to populate, advised `MADV_HUGEPAGE` and then
    /// one byte of every page read (see `PosixReadCalls.map`).
    func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer?
    func unmap(_ address: UnsafeRawPointer, length: Int)
    func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32)
    /// `posix_fadvise(descriptor, offset, length, POSIX_FADV_DONTNEED)`: the page cache drops the range's pages that
    /// nothing maps.
    func evict(_ descriptor: Int32, offset: Int, length: Int)
    /// Bytes of the mapping that starts at `address` that the kernel maps with 2 MiB pages (`FilePmdMapped` in
    /// `/proc/self/smaps`), or nil when unknown.
    func largePageBytes(mappedAt address: UnsafeRawPointer) -> Int?
    func close(_ descriptor: Int32) -> Int32
}

extension ReadCalls {
    /// Nothing to drop: readers over memory have no page cache.
    package func evict(_ descriptor: Int32, offset: Int, length: Int) {}

    package func largePageBytes(mappedAt address: UnsafeRawPointer) -> Int? { nil }
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

    /// Populating reads one byte of every page rather than asking for `MAP_POPULATE`: each read fault maps the pages
    /// around it (fault-around, or the whole large folio), where `MAP_POPULATE` then looks every page up on its own
    /// (4 % more decode at `--budget 350M` on the LFM2-1.2B shape). `MADV_HUGEPAGE` first makes the page cache read
    /// what it lacks in 2 MiB folios, which the kernel maps as 2 MiB pages.
    package func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer? {
        let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, off_t(offset))
        guard let address, address != MAP_FAILED else { return nil }
        if populate {
            #if canImport(Glibc)
            _ = madvise(address, length, MADV_HUGEPAGE)
            #endif
            var sum: UInt8 = 0
            for page in stride(from: 0, to: length, by: ReadOnlyFile.pageSize) { sum &+= address.load(fromByteOffset: page, as: UInt8.self) }
            Self.touched.store(sum, ordering: .relaxed)
        }
        return UnsafeRawPointer(address)
    }

    /// Where the touched bytes' sum goes, so that the reads are made.
    private static let touched = Atomic<UInt8>(0)

    package func evict(_ descriptor: Int32, offset: Int, length: Int) {
        #if canImport(Glibc)
        _ = posix_fadvise(descriptor, off_t(offset), off_t(length), POSIX_FADV_DONTNEED)
        #endif
    }

    package func largePageBytes(mappedAt address: UnsafeRawPointer) -> Int? {
        guard let file = fopen("/proc/self/smaps", "r") else { return nil }
        defer { fclose(file) }
        let header = String(UInt(bitPattern: address), radix: 16) + "-"
        var line = [CChar](repeating: 0, count: 512)
        var inMapping = false
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix(header) {
                inMapping = true
            } else if inMapping, text.hasPrefix("FilePmdMapped:") {
                return text.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
            } else if inMapping, text.hasPrefix("VmFlags:") {
                return nil
            }
        }
        return nil
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
