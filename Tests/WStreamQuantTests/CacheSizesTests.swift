import Testing
@testable import WStreamQuant

@Suite struct CacheSizesTests {
    @Test func parsesSizesAsSysfsWritesThem() {
        #expect(CacheSizes.parse("48K") == 48 << 10)
        #expect(CacheSizes.parse("266240K") == 266_240 << 10)
        #expect(CacheSizes.parse("32M") == 32 << 20)
        #expect(CacheSizes.parse("1G") == 1 << 30)
        #expect(CacheSizes.parse("4096") == 4096)
        #expect(CacheSizes.parse("") == nil)
        #expect(CacheSizes.parse("K") == nil)
        #expect(CacheSizes.parse("-2K") == nil)
        #expect(CacheSizes.parse("twoM") == nil)
    }

    /// This machine's caches as sysfs lists them: an L2 and a larger last level (the fallbacks are only for
    /// machines without sysfs, which CI is not).
    @Test func readsThisMachinesCaches() throws {
        let second = try #require(CacheSizes.bytes(level: 2), "sysfs lists no L2 for CPU 0")
        #expect(CacheSizes.secondLevel == second)
        #expect(CacheSizes.lastLevel >= CacheSizes.secondLevel)
        #expect(CacheSizes.bytes(level: 9) == nil && CacheSizes.totalBytes(level: 9) == nil)
        // The last level summed over its instances is at least CPU 0's.
        let third = try #require(CacheSizes.bytes(level: 3), "sysfs lists no L3 for CPU 0")
        #expect(try #require(CacheSizes.totalBytes(level: 3)) >= third)
    }

    /// The memory probe's buffer outgrows the last-level cache, whatever its size.
    @Test func probeBufferIsFourTimesTheLastLevelCache() {
        #expect(BandwidthProbe.bufferBytes >= 4 * CacheSizes.lastLevel)
        #expect(BandwidthProbe.bufferBytes >= 1 << 30)
    }
}
