import WStreamQuant

/// Which bits a sweep flips: `count` bit offsets drawn uniformly from the file's bits by SplitMix64 from `seed`, so
/// that a sweep (and any one flip of it) can be repeated exactly.
struct FlipPlan: Sendable {
    let seed: UInt64
    /// Bit offsets into the file: byte `bit / 8`, bit `bit % 8` (1 << that, in the byte).
    let bits: [Int]

    init(seed: UInt64, count: Int, fileSize: Int) {
        self.seed = seed
        var generator = SplitMix64(seed: seed)
        let total = UInt64(fileSize) * 8
        bits = (0..<count).map { _ in Int(generator.next() % total) }
    }
}
