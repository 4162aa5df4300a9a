import WStreamFormat

/// Where each tensor of one region lies once the region is decoded into a contiguous buffer.
public struct RegionLayout: Sendable {
    /// One tensor of the region and its place in the decoded buffer.
    public struct Placement: Sendable {
        public let tensor: TensorEntry
        /// Byte offset in the region's decoded buffer (a multiple of `RegionLayout.tensorAlignment`).
        public let offset: Int
    }

    /// Decoded tensors start on cache-line boundaries so SIMD loads of rows stay aligned.
    public static let tensorAlignment = 64

    public let region: Int
    public let name: String
    public let placements: [Placement]
    /// Bytes the decoded region occupies (its slot size).
    public let byteCount: Int
    /// Bytes the region occupies in the file (stored, possibly compressed).
    public let storedByteCount: Int

    public init(region: Int, in reader: ContainerReader) {
        self.region = region
        name = reader.metadata.regions[region].name
        storedByteCount = Int(reader.metadata.regions[region].length)
        var offset = 0
        var placements: [Placement] = []
        for tensor in reader.tensors(inRegion: region) {
            placements.append(Placement(tensor: tensor, offset: offset))
            offset += (tensor.decodedByteCount + Self.tensorAlignment - 1) / Self.tensorAlignment * Self.tensorAlignment
        }
        self.placements = placements
        byteCount = offset
    }

    /// The placement of the tensor called `name`, if the region holds it.
    public func placement(of name: String) -> Placement? {
        placements.first { $0.tensor.name == name }
    }
}

/// A region decoded in memory: the tensors of one layer (or of the head), ready for the kernels.
public struct DecodedRegion: @unchecked Sendable {
    public let layout: RegionLayout
    /// Start of the decoded bytes; valid until the region is released.
    public let base: UnsafeRawPointer

    /// The decoded bytes of tensor `name`, with its entry; nil when the region does not hold it.
    public func tensor(_ name: String) -> (entry: TensorEntry, bytes: UnsafeRawPointer)? {
        guard let placement = layout.placement(of: name) else { return nil }
        return (placement.tensor, base + placement.offset)
    }
}
