import WStreamQuant

/// Generated seeds draw from SplitMix64, so the same build writes the same seeds.
extension SplitMix64 {
    /// A float in [-1, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}
