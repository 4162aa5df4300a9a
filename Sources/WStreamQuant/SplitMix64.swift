/// Steele, Lea and Flood's SplitMix64: small, fast, seeded, and the same sequence on every platform.
/// Benchmark data, the sampler, synthetic weights and fuzzing seeds all draw from it, so a seed means the same thing
/// everywhere. Inlinable: synthetic models draw billions of values from it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes, one per draw.
    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// Uniform in [0, 1), with 24 bits of resolution.
    public mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
