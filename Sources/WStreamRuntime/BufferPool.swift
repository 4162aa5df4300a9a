#if canImport(Glibc)
import Glibc
#endif

/// The one allocation that holds every decoded region: reserved once at start, never grown.
///
/// Backed by an anonymous private mapping, so its pages count toward RSS only once touched;
/// the plan sizes it so that touching all of it stays within the budget.
public final class BufferPool: @unchecked Sendable {
    public let byteCount: Int
    public let base: UnsafeMutableRawPointer

    /// Reserves `byteCount` bytes (`mmap(MAP_PRIVATE | MAP_ANONYMOUS)`).
    /// - Throws: `RuntimeError.allocationFailed` when the kernel refuses.
    public init(byteCount: Int) throws {
        self.byteCount = byteCount
        guard byteCount > 0 else {
            base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
            return
        }
        let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw RuntimeError.allocationFailed(bytes: byteCount, errno: errno)
        }
        base = mapped
    }

    deinit {
        if byteCount > 0 { munmap(base, byteCount) } else { base.deallocate() }
    }
}
