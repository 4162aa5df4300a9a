import WStreamFormat
import WStreamImport

/// Where a packed tensor's stored values came from: the path it took and what it was in the source.
public struct TensorOrigin: Sendable, Hashable, CustomStringConvertible {
    public enum Path: String, Sendable, CaseIterable {
        /// The source's own affine groups (codes, scales, biases) were stored as they are.
        case carried = "carried from"
        /// A quantized source was dequantized, then quantized again.
        case requantized = "re-quantized from"
        /// A float source was quantized.
        case quantized = "quantized from"
        /// Stored as f16 or f32.
        case converted = "converted from"
    }

    public let path: Path
    /// The source's element type or scheme: `BF16`, `Q6_K`, `MLX q4 g64`.
    public let source: String

    public init(path: Path, source: String) {
        self.path = path
        self.source = source
    }

    /// The path's place in summaries: carried first, converted last.
    var orderIndex: Int { Path.allCases.firstIndex(of: path)! }

    /// `carried from Q4_0`, `quantized from BF16`, …
    public var description: String { "\(path.rawValue) \(source)" }

    /// The path a tensor takes when it is stored as `storage`, carried or not.
    static func of(_ tensor: any TensorSource, storage: StorageType, carried: Bool) -> TensorOrigin {
        let path: Path
        switch storage {
        case .f16, .f32: path = .converted
        case .q4, .q6, .q8, .q4r, .q6r, .q8r: path = carried ? .carried : ["F32", "F16", "BF16"].contains(tensor.sourceType) ? .quantized : .requantized
        }
        return TensorOrigin(path: path, source: tensor.sourceType)
    }
}

/// How the groups of carried tensors were stored.
public struct CarriedGroupCounts: Sendable, Equatable {
    /// Groups carried.
    public var groups = 0
    /// Groups whose scale and bias were not exact in fp16, stored with the fp16-rounded values (closer than
    /// re-quantizing the group).
    public var rounded = 0
    /// Groups whose rounded scale and bias came out further from the source than re-quantizing its values (or did not
    /// fit fp16 at all), re-quantized instead.
    public var requantized = 0

    public init() {}

    /// Adds another block's or tensor's counts.
    public mutating func add(_ other: CarriedGroupCounts) {
        groups += other.groups
        rounded += other.rounded
        requantized += other.requantized
    }

    /// `1987 of 2048 groups with scale or bias rounded to fp16, 61 re-quantized`, or nil when every group was exact.
    public var note: String? {
        var parts: [String] = []
        if rounded > 0 { parts.append("\(rounded) of \(groups) groups with scale or bias rounded to fp16") }
        if requantized > 0 { parts.append("\(requantized) of \(groups) groups re-quantized") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
