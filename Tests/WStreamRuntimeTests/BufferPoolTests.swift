import Glibc
import TestSupport
import Testing
import WStreamRuntime

/// The pool's memory: one anonymous mapping, advised to the kernel for huge pages.
@Suite struct BufferPoolTests {
    /// The `VmFlags` of the mapping in /proc/self/smaps that holds `address`.
    private func mappingFlags(holding address: UnsafeRawPointer) throws -> [Substring] {
        let smaps = String(decoding: try FileContents.read("/proc/self/smaps"), as: UTF8.self)
        let target = UInt(bitPattern: address)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return Array(fields.dropFirst())
            }
        }
        Issue.record("no mapping in /proc/self/smaps holds \(address)")
        return []
    }

    @Test func thePoolIsAdvisedForHugePagesWhereTheKernelHasThem() throws {
        let pool = try BufferPool(byteCount: 8 << 20)
        let flags = try mappingFlags(holding: pool.base)
        // `hg` is MADV_HUGEPAGE's mark; a kernel built without transparent huge pages refuses the advice.
        let kernelHasHugePages = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0
        #expect(flags.contains("hg") == kernelHasHugePages, "VmFlags of the pool: \(flags.joined(separator: " "))")
    }
}
