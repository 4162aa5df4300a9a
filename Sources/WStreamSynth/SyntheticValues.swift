import WStreamQuant

/// Deterministic pseudo-random weights that look like a trained model's to the quantizer and the kernels:
/// normal(0, 0.02) with a few outliers per row for matrices, 1 + normal(0, 0.05) for norm weights.
///
/// Every row has its own generator seeded from (seed, tensor, row), so the values do not depend on how rows
/// are split across threads.
struct SyntheticValues: Sendable {
    static let standardDeviation: Float = 0.02
    static let normDeviation: Float = 0.05
    static let outliersPerRow = 4

    let seed: UInt64

    /// Fills `row` of tensor number `tensor` with bfloat16 bits.
    /// - Parameter isNorm: norm weights are centred on 1 and have no outliers.
    func fillRow(tensor: Int, row: Int, isNorm: Bool, into output: UnsafeMutableBufferPointer<UInt16>) {
        var generator = SplitMix64(seed: seed ^ (UInt64(tensor) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(row) &* 0xC2B2_AE3D_27D4_EB4F))
        let scale = isNorm ? Self.normDeviation : Self.standardDeviation
        let center: Float = isNorm ? 1 : 0
        for index in output.indices {
            output[index] = bfloat16(center + scale * generator.nextApproximateNormal())
        }
        guard !isNorm else { return }
        for _ in 0..<min(Self.outliersPerRow, output.count) {
            let random = generator.next()
            let position = Int(random % UInt64(output.count))
            let magnitude = 0.2 + 0.3 * Float(random >> 40) / Float(1 << 24)
            output[position] = bfloat16(random & (1 << 32) == 0 ? magnitude : -magnitude)
        }
    }

    /// Round-to-nearest-even bfloat16 (the values are finite, so no NaN handling is needed).
    @inline(__always)
    private func bfloat16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}

extension SplitMix64 {
    /// An approximately standard normal value: the sum of four 16-bit uniforms (Irwin–Hall), centred and scaled
    /// to unit variance. One generator call per value instead of Box–Muller's logarithm and cosine; tails end at ±3.46σ,
    /// which the explicit outliers make up for.
    @inline(__always)
    mutating func nextApproximateNormal() -> Float {
        let random = next()
        let sum = (random & 0xFFFF) + ((random >> 16) & 0xFFFF) + ((random >> 32) & 0xFFFF) + (random >> 48)
        // Each lane is uniform on 0…65535 with variance (65536² − 1)/12; four lanes: mean 131070, σ ≈ 37837.
        return (Float(sum) - 131_070) * (1 / 37_837.2)
    }
}
