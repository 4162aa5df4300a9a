import WStreamFormat

/// What each byte of a `.wst` file is, and so which checksum (if any) covers it (docs/FORMAT.md §2).
struct FileAreaMap: Sendable {
    /// The part of the file a byte belongs to.
    enum Area: Sendable, Equatable {
        /// The 64-byte header: its own checksum.
        case header
        /// The metadata JSON: its checksum in the header.
        case metadata
        /// The stored bytes of frame `index` of `tensor`: the frame's checksum in the metadata.
        case frame(tensor: String, index: Int)
        /// Zeros the writer leaves unused; no checksum covers them.
        case padding(Padding)

        /// The row of the outcome table the area counts in.
        var kind: Kind {
            switch self {
            case .header: .header
            case .metadata: .metadata
            case .frame: .frames
            case .padding(.afterHeader): .paddingAfterHeader
            case .padding(.betweenTensors): .paddingBetweenTensors
            case .padding(.betweenRegions): .paddingBetweenRegions
            }
        }
    }

    /// Where unchecked zeros lie.
    enum Padding: Sendable, Equatable {
        /// Between the header and the first region (the first region starts on an alignment boundary).
        case afterHeader
        /// Inside a region, before a tensor that starts on a 64-byte boundary.
        case betweenTensors
        /// After a region's last frame, up to the next region's alignment boundary (or the metadata).
        case betweenRegions
    }

    /// Areas grouped as the report counts them, in file order.
    enum Kind: String, Sendable, CaseIterable {
        case header = "header"
        case paddingAfterHeader = "padding after the header"
        case frames = "frames"
        case paddingBetweenTensors = "padding between tensors"
        case paddingBetweenRegions = "padding between regions"
        case metadata = "metadata"

        /// Whether a checksum covers the area.
        var isChecked: Bool { self == .header || self == .frames || self == .metadata }
    }

    let fileSize: Int
    private let metadataRange: Range<Int>
    private let regionRanges: [Range<Int>]
    /// Every frame's stored bytes, sorted by offset.
    private let frames: [(range: Range<Int>, tensor: String, index: Int)]

    /// Maps the file `reader` opened (which has validated its regions and frames).
    init(reader: ContainerReader) {
        fileSize = reader.fileSize
        let start = Int(reader.header.metadataOffset)
        metadataRange = start..<start + Int(reader.header.metadataLength)
        regionRanges = reader.metadata.regions.map { Int($0.offset)..<Int($0.offset + $0.length) }
        frames = reader.metadata.tensors.flatMap { tensor in
            tensor.frames.enumerated().map { index, frame in
                (Int(frame.offset)..<Int(frame.offset + frame.storedLength), tensor.name, index)
            }
        }.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// The area byte `offset` lies in.
    func area(at offset: Int) -> Area {
        precondition((0..<fileSize).contains(offset), "offset \(offset) outside the file (\(fileSize) bytes)")
        if offset < ContainerHeader.size { return .header }
        if metadataRange.contains(offset) { return .metadata }
        // The last frame starting at or before `offset`.
        var low = 0, high = frames.count
        while low < high {
            let middle = (low + high) / 2
            if frames[middle].range.lowerBound <= offset { low = middle + 1 } else { high = middle }
        }
        if low > 0, frames[low - 1].range.contains(offset) {
            return .frame(tensor: frames[low - 1].tensor, index: frames[low - 1].index)
        }
        if let first = regionRanges.first, offset < first.lowerBound { return .padding(.afterHeader) }
        return .padding(regionRanges.contains { $0.contains(offset) } ? .betweenTensors : .betweenRegions)
    }

    /// How many bytes of the file each kind of area takes.
    var bytesByKind: [Kind: Int] {
        var bytes = [Kind: Int]()
        bytes[.header] = ContainerHeader.size
        bytes[.metadata] = metadataRange.count
        bytes[.frames] = frames.reduce(0) { $0 + $1.range.count }
        bytes[.paddingAfterHeader] = max(0, (regionRanges.first?.lowerBound ?? metadataRange.lowerBound) - ContainerHeader.size)
        let insideRegions = regionRanges.reduce(0) { $0 + $1.count }
        bytes[.paddingBetweenTensors] = insideRegions - bytes[.frames]!
        bytes[.paddingBetweenRegions] = fileSize - bytes.values.reduce(0, +)
        return bytes
    }
}
