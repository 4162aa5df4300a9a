#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import WStreamFormat

/// Mapped windows: populated windows hold the file's bytes, the kernel's count of their 2 MiB pages can be read, and
/// which windows could be mapped in 2 MiB pages at all.
@Suite struct FileWindowTests {
    let directory = TemporaryDirectory()

    /// A file of `count` bytes, each its offset's low byte mixed with its 4 KiB page's number.
    func file(bytes count: Int) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ $0 >> 12) }
        let path = directory.file("window-\(count).bin")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        try #require(written == count)
        return (path, bytes)
    }

    @Test func populatedWindowsHoldTheFilesBytesBeforeAndAfterEviction() throws {
        let (path, bytes) = try file(bytes: 6 << 20)
        let file = try ReadOnlyFile(path: path)
        for range in [0..<(6 << 20), 5000..<(3 << 20) + 17] {
            let window = try file.map(range, populate: true)
            withExtendedLifetime(window) {
                #expect(Array(window.bytes) == Array(bytes[range]), "\(range)")
                #expect(window.largePageBytes != nil, "no FilePmdMapped for the window's mapping in /proc/self/smaps")
            }
        }
        file.evictFromPageCache(0..<(6 << 20))
        let again = try file.map(0..<(6 << 20), populate: true)
        withExtendedLifetime(again) { #expect(Array(again.bytes) == bytes) }
    }

    @Test func anAddressThatStartsNoMappingHasNoCount() {
        let heap = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { heap.deallocate() }
        #expect(PosixReadCalls().largePageBytes(mappedAt: heap + 8) == nil)
    }

    /// A window could be mapped with as many 2 MiB pages as it holds whole aligned 2 MiB stretches of the file.
    @Test func aWindowCountsTheWholeAlignedStretchesItHolds() throws {
        let mib = 1 << 20
        let file = try ReadOnlyFile(path: try file(bytes: 6 * mib).path)
        let cases: [(Range<Int>, Int)] = [
            (0..<(2 * mib), 1), (4096..<(2 * mib + 4096), 0), (mib..<(4 * mib), 1), (mib..<(4 * mib - 1), 0),
            (0..<(2 * mib - 1), 0), (3 * mib..<(6 * mib), 1), (0..<(6 * mib), 3), (mib..<(6 * mib), 2),
        ]
        for (range, count) in cases {
            #expect(try file.map(range).largePageCount == count, "\(range)")
        }
    }
}
