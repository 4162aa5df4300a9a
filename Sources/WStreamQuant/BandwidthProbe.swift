/// Memory read bandwidth, measured by reading buffers with 64-byte vector loads across a pool's threads.
///
/// The buffers should be much larger than the last-level cache (the benchmark's weight set is), so the
/// figure is the memory's and not the cache's; they are read in turn, repeatedly, until at least
/// `minimumBytes` have been read, five times. The fastest of the five is the memory's peak (another process on
/// one of the cores shows as a slow measurement, not as a low bandwidth); all five tell what a longer run meets on
/// a machine whose bus other tenants share.
public enum BandwidthProbe {
    /// Bytes a probe of the memory alone reads (`KernelBenchmark.memoryBandwidthMeasurements`): four times the
    /// last-level cache, and at least 1 GiB. An Intel Xeon's 260 MiB L3 kept part of a 256 MiB buffer, which then
    /// read about 4 % faster than 0.5–2 GiB ones (a C copy of the loop, six rounds).
    public static let bufferBytes = max(1 << 30, 4 * CacheSizes.lastLevel)

    /// Pieces the threads take one at a time: large enough for the prefetchers, small enough to balance.
    static let pieceBytes = 1 << 20

    /// - Returns: the fastest of the five measurements, in GB/s (10⁹ bytes per second).
    static func gigabytesPerSecond(_ buffers: [UnsafeRawBufferPointer], minimumBytes: Int, pool: ComputePool) -> Double {
        measurements(buffers, minimumBytes: minimumBytes, pool: pool).max() ?? 0
    }

    /// - Returns: each of the five measurements, in GB/s (10⁹ bytes per second), in the order they were made.
    static func measurements(_ buffers: [UnsafeRawBufferPointer], minimumBytes: Int, pool: ComputePool) -> [Double] {
        var pieces: [UnsafeRawBufferPointer] = []
        for buffer in buffers {
            var offset = 0
            while offset < buffer.count {
                let count = min(pieceBytes, buffer.count - offset)
                pieces.append(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
                offset += count
            }
        }
        let total = pieces.reduce(0) { $0 + $1.count }
        guard total > 0 else { return [] }
        let passes = max(1, (minimumBytes + total - 1) / total)
        let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: pieces.count)
        defer { sums.deallocate() }
        var rates: [Double] = []
        for _ in 0..<5 {
            let start = KernelBenchmark.monotonicSeconds()
            for _ in 0..<passes {
                pieces.withUnsafeBufferPointer { pieces in
                    pool.parallelFor(pieces.count) { i in sums[i] = sum(pieces[i]) }
                }
            }
            rates.append(Double(total * passes) / (KernelBenchmark.monotonicSeconds() - start) / 1e9)
        }
        // The sums are only there so the reads cannot be optimised away; reading them keeps them alive.
        var checksum: UInt64 = 0
        for i in 0..<pieces.count { checksum &+= sums[i] }
        withExtendedLifetime(checksum) {}
        return rates
    }

    /// The wrapping sum of the bytes as 64-bit words, four independent 64-byte accumulators wide.
    @inline(never)
    static func sum(_ buffer: UnsafeRawBufferPointer) -> UInt64 {
        guard let p = buffer.baseAddress else { return 0 }
        var a0 = SIMD8<UInt64>(), a1 = SIMD8<UInt64>(), a2 = SIMD8<UInt64>(), a3 = SIMD8<UInt64>()
        var i = 0
        while i + 256 <= buffer.count {
            a0 &+= p.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt64>.self)
            a1 &+= p.loadUnaligned(fromByteOffset: i + 64, as: SIMD8<UInt64>.self)
            a2 &+= p.loadUnaligned(fromByteOffset: i + 128, as: SIMD8<UInt64>.self)
            a3 &+= p.loadUnaligned(fromByteOffset: i + 192, as: SIMD8<UInt64>.self)
            i += 256
        }
        var total = (a0 &+ a1 &+ a2 &+ a3).wrappedSum()
        while i < buffer.count {
            total &+= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            i += 1
        }
        return total
    }
}
