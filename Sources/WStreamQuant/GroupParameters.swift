/// How a quantised matrix stores each group's scale and bias.
public enum GroupParameters: String, Sendable, Equatable, CaseIterable {
    /// An fp16 scale and an fp16 bias per group: MLX's form, and what checkpoints carried over keep.
    /// 4 bytes per group: a 4-bit weight costs 5 bits.
    case float16 = "float16"
    /// A float32 scale per row, `D`; per group an 8-bit multiple of it, `u`, and an 8-bit signed offset, `z`:
    /// `scale = D · u`, `bias = scale · z · 2^(bits − 7)` (steps of an eighth of the scale for 4-bit codes,
    /// half of it for 6-bit ones, twice the scale for 8-bit ones). 2 bytes per group: a 4-bit weight costs 4.5 bits, which is what
    /// decode reads per weight. The offset reaches `bias / scale` in `−16 … 15.9` (4-bit), enough for every
    /// group whose range holds zero; `Quantizer` keeps `.float16` for a matrix where that fails.
    case rowScaled = "row-scaled"

    /// Bytes of one group's scale (and of its bias or offset).
    var bytesPerGroupParameter: Int { self == .float16 ? 2 : 1 }
    /// Bytes stored once per row.
    var bytesPerRow: Int { self == .float16 ? 0 : 4 }

    /// `bias = scale · offset · offsetUnit(bits)` for `.rowScaled`.
    static func offsetUnit(bits: Int) -> Float { Float(sign: .plus, exponent: bits - 7, significand: 1) }
}
