import WStreamFormat
import WStreamQuant

/// Which bits a sweep flips: optionally every bit of the header first, then `count` bit offsets drawn uniformly from
/// the file's bits by SplitMix64 from `seed`, so that a sweep (and any one flip of it) can be repeated exactly.
struct FlipPlan: Sendable {
    let seed: UInt64
    /// Bit offsets into the file: byte `bit / 8`, bit `bit % 8` (1 << that, in the byte).
    let bits: [Int]

    /// - Parameter everyHeaderBit: flip each of the header's 512 bits before the random ones (random flips land in its
    ///   64 bytes too rarely to show each field is covered).
    init(seed: UInt64, count: Int, fileSize: Int, everyHeaderBit: Bool) {
        self.seed = seed
        var generator = SplitMix64(seed: seed)
        let total = UInt64(fileSize) * 8
        bits = (everyHeaderBit ? Array(0..<(ContainerHeader.size * 8)) : []) + (0..<count).map { _ in Int(generator.next() % total) }
    }
}
