import WStreamFormat

/// Where each tensor of one streamed unit lies once the unit is in memory, and where its bytes lie in the file.
///
/// A unit is a whole region (a transformer block), or a part of one: a region much larger than the others (the
/// output head of a large vocabulary) is cut between row blocks of its largest tensor, so that no streaming slot
/// has to hold all of it and the minimum working set stays near one block's size.
///
/// A unit whose frames are all stored exactly as decoded (raw, not shuffled, one after the other: what `pack`
/// writes by default) keeps the file's layout in memory, so its bytes can be read straight into place or used
/// where they are mapped; any other unit is decoded frame by frame into a layout of its own.
public struct RegionLayout: Sendable {
    /// One tensor, or a run of its row blocks, and its place in the unit's memory.
    public struct Placement: Sendable {
        public let tensor: TensorEntry
        /// The row blocks of `tensor` this unit holds.
        public let blocks: Range<Int>
        /// Byte offset in the unit's memory.
        public let offset: Int

        /// The matrix rows the placed blocks hold.
        public var rows: Range<Int> {
            (blocks.lowerBound * tensor.rowsPerBlock)..<min(tensor.rows, blocks.upperBound * tensor.rowsPerBlock)
        }

        /// Decoded bytes of the placed blocks.
        public var byteCount: Int { blocks.reduce(0) { $0 + tensor.decodedByteCount(ofBlock: $1) } }
    }

    /// Decoded tensors of a unit that is decoded start on cache-line boundaries, so SIMD loads of rows stay aligned.
    public static let tensorAlignment = 64

    public let region: Int
    /// `layer.3`, `head`, or `head[2/4]` for a part.
    public let name: String
    public let placements: [Placement]
    /// The file bytes holding the unit's frames.
    public let storedRange: Range<Int>
    /// The unit's memory is its stored bytes (`storedRange`), as they lie in the file.
    public let isStoredAsDecoded: Bool
    /// Bytes the unit occupies in memory.
    public let byteCount: Int

    /// The whole of region `region`.
    public init(region: Int, in reader: ContainerReader) {
        self.init(region: region, name: reader.metadata.regions[region].name,
                  parts: reader.tensors(inRegion: region).map { ($0, 0..<$0.blockCount) }, reader: reader)
    }

    private init(region: Int, name: String, parts: [(TensorEntry, Range<Int>)], reader: ContainerReader) {
        self.region = region
        self.name = name
        let ranges = parts.map { reader.storedRange(of: $0.0, blocks: $0.1) }
        let start = ranges.map(\.lowerBound).min() ?? 0
        let end = ranges.map(\.upperBound).max() ?? 0
        storedRange = start..<end
        // Stored as decoded: every part's frames raw and contiguous (padding between parts comes along unused).
        isStoredAsDecoded = !parts.isEmpty && parts.allSatisfy { reader.isStoredAsDecoded($0.0, blocks: $0.1) }
        if isStoredAsDecoded {
            placements = zip(parts, ranges).map { Placement(tensor: $0.0, blocks: $0.1, offset: $1.lowerBound - start) }
            byteCount = storedRange.count
        } else {
            var offset = 0
            var placed: [Placement] = []
            for (tensor, blocks) in parts {
                let placement = Placement(tensor: tensor, blocks: blocks, offset: offset)
                placed.append(placement)
                offset += (placement.byteCount + Self.tensorAlignment - 1) / Self.tensorAlignment * Self.tensorAlignment
            }
            placements = placed
            byteCount = offset
        }
    }

    /// Memory one slot needs for this unit, a whole number of pages so that slots laid end to end stay
    /// page-aligned: its bytes, and for a unit read or mapped straight from the file the page that page-aligned
    /// reads and mappings cover before its first byte.
    public var slotBytes: Int {
        let page = ReadOnlyFile.pageSize
        return (byteCount + page - 1) / page * page + (isStoredAsDecoded ? page : 0)
    }

    /// This unit cut into parts of at most about `limit` bytes, by splitting its largest tensor between row
    /// blocks; the other tensors stay in the first part. Itself when it is within the limit already.
    public func split(maximumBytes limit: Int, reader: ContainerReader) -> [RegionLayout] {
        guard byteCount > limit, let largest = placements.indices.max(by: { placements[$0].byteCount < placements[$1].byteCount }) else {
            return [self]
        }
        let tensor = placements[largest].tensor
        let others = placements.enumerated().filter { $0.offset != largest }.map { ($0.element.tensor, $0.element.blocks) }
        var runs: [Range<Int>] = []
        var start = 0
        var bytes = others.reduce(0) { total, part in total + part.1.reduce(0) { $0 + part.0.decodedByteCount(ofBlock: $1) } }
        for block in 0..<tensor.blockCount {
            let size = tensor.decodedByteCount(ofBlock: block)
            if bytes + size > limit, block > start {
                runs.append(start..<block)
                start = block
                bytes = 0
            }
            bytes += size
        }
        runs.append(start..<tensor.blockCount)
        return runs.enumerated().map { index, run in
            RegionLayout(region: region, name: "\(name)[\(index + 1)/\(runs.count)]",
                         parts: (index == 0 ? others : []) + [(tensor, run)], reader: reader)
        }
    }

    /// The placement of the tensor called `name`, if the unit holds (part of) it.
    public func placement(of name: String) -> Placement? {
        placements.first { $0.tensor.name == name }
    }
}

/// A unit in memory: the tensors of one layer (or a part of the head), ready for the kernels.
public struct DecodedRegion: @unchecked Sendable {
    public let layout: RegionLayout
    /// Start of the unit's bytes; valid until the unit is released.
    public let base: UnsafeRawPointer

    /// The placement of tensor `name` and its bytes; nil when the unit does not hold it.
    public func tensor(_ name: String) -> (placement: RegionLayout.Placement, bytes: UnsafeRawPointer)? {
        guard let placement = layout.placement(of: name) else { return nil }
        return (placement, base + placement.offset)
    }
}
