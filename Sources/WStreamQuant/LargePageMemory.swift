import Glibc

/// Anonymous memory for the benchmark's weights and probe, backed by huge pages where the kernel allows.
///
/// The engine keeps resident weights in such memory (`BufferPool` advises `MADV_HUGEPAGE` too), so the
/// benchmark measures its kernels, and the memory's bandwidth, on the same kind of pages. The advice is
/// only advice: where transparent huge pages are off, the memory is ordinary 4 KiB pages.
enum LargePageMemory {
    /// `byteCount` bytes of zeroed, page-aligned memory; release them with `deallocate`.
    static func allocate(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("mmap of \(byteCount) bytes failed: errno \(errno)") }
        _ = madvise(mapped, byteCount, MADV_HUGEPAGE)
        return UnsafeMutableRawBufferPointer(start: mapped, count: byteCount)
    }

    static func deallocate(_ memory: UnsafeRawBufferPointer) {
        munmap(UnsafeMutableRawPointer(mutating: memory.baseAddress), memory.count)
    }
}
