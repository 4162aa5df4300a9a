#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import WStreamFormat
import WStreamImport
import WStreamQuant

/// Converts an imported model into a `.wst` file: quantise, frame, compress, write (atomically).
///
/// Tensors are converted a batch of row blocks at a time on `PackOptions.threads` threads, so memory stays
/// at a few blocks per thread whatever the model's size; sources are read through their mappings.
public enum Packer {
    /// Packs `model` into `destination`.
    /// - Throws: `PackError` for options or tensors it cannot place or values it cannot store (inf, NaN, beyond fp16),
    ///   `FormatError` for I/O; nothing is left at `destination` when it throws.
    @discardableResult
    public static func pack(_ model: ImportedModel, to destination: String, options: PackOptions,
                            progress: ((PackProgress) -> Void)? = nil) throws -> PackSummary {
        guard PackOptions.supportedBits.contains(options.bits) else { throw PackError.unsupportedBits(options.bits) }
        guard PackOptions.supportedGroupSizes.contains(options.groupSize) else { throw PackError.unsupportedGroupSize(options.groupSize) }
        let clock = ContinuousClock()
        let start = clock.now
        let layout = try PackLayout(model: model, options: options)
        let writer = try ContainerWriter(destination: destination)
        var summary = PackSummary()
        let totalBytes = layout.placements.reduce(0) { $0 + $1.source.shape.reduce(1, *) * 4 }
        var doneBytes = 0
        var currentRegion = -1

        for (index, placement) in layout.placements.enumerated() {
            if placement.region != currentRegion {
                currentRegion = placement.region
                try writer.beginRegion(layout.regionNames[currentRegion])
            }
            try packTensor(placement, from: model.source, writer: writer, options: options, summary: &summary)
            doneBytes += placement.source.shape.reduce(1, *) * 4
            progress?(PackProgress(tensorName: placement.source.name, tensorsDone: index + 1,
                                   tensorCount: layout.placements.count, bytesDone: doneBytes, bytesTotal: totalBytes))
        }
        let quantization = QuantizationInfo(bits: options.bits, groupSize: options.bits <= 8 ? options.groupSize : 0)
        try writer.finish(config: model.config, tokenizer: model.tokenizer, quantization: quantization,
                          producer: ["source": model.source, "tool": "wstream pack"])
        summary.tensorCount = layout.placements.count
        summary.parameterCount = layout.placements.reduce(0) { $0 + $1.source.shape.reduce(1, *) }
        summary.outputBytes = fileSize(destination)
        summary.seconds = Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds) * 1e-18
        return summary
    }

    /// Converts and appends one tensor, a batch of blocks at a time.
    /// - Throws: `PackError.unstorableTensor` naming `sourceName` and the tensor for values that cannot be stored.
    private static func packTensor(
        _ placement: PackLayout.Placement, from sourceName: String, writer: ContainerWriter, options: PackOptions,
        summary: inout PackSummary
    ) throws {
        let source = placement.source
        let rows = source.shape.count == 2 ? source.shape[0] : 1
        let cols = source.shape.last ?? 0
        let rowsPerBlock = placement.rowsPerBlock
        let blockCount = (rows + rowsPerBlock - 1) / rowsPerBlock
        try writer.beginTensor(name: source.name, shape: source.shape, storage: placement.storage,
                               groupSize: placement.storage == .q4 || placement.storage == .q8 ? options.groupSize : 0,
                               rowsPerBlock: rowsPerBlock)
        let batch = max(1, options.threads * 2)
        var first = 0
        while first < blockCount {
            let count = min(batch, blockCount - first)
            let results = BlockResults(count: count)
            let base = first
            DispatchQueue.concurrentPerform(iterations: count) { offset in
                let block = base + offset
                let rowRange = (block * rowsPerBlock)..<min(rows, (block + 1) * rowsPerBlock)
                results.store(offset, Result {
                    do {
                        return try encodeBlock(source: source, rows: rowRange, cols: cols, storage: placement.storage, options: options)
                    } catch let error as QuantError {
                        throw PackError.unstorableTensor(source: sourceName, tensor: source.name, reason: error.description)
                    }
                })
            }
            for offset in 0..<count {
                let encoded = try results.take(offset).get()
                try writer.appendBlock(encoded.frames)
                summary.add(encoded)
            }
            first += count
        }
        try writer.endTensor()
    }

    /// One encoded row block and what it contributes to the summary.
    struct EncodedBlock {
        var frames: [EncodedFrame]
        var storage: StorageType
    }

    private static func encodeBlock(source: any TensorSource, rows: Range<Int>, cols: Int, storage: StorageType, options: PackOptions) throws -> EncodedBlock {
        var values = [Float](repeating: 0, count: rows.count * cols)
        try values.withUnsafeMutableBufferPointer { try source.readRows(rows, into: $0) }
        let level = options.compressionLevel
        switch storage {
        case .q4, .q8:
            let layout = QuantizedLayout(bits: storage == .q4 ? 4 : 8, groupSize: options.groupSize, rows: rows.count, cols: cols)
            let parts = try values.withUnsafeBufferPointer {
                try Quantizer.quantizeBlock($0, rowCount: rows.count, layout: layout, firstRow: rows.lowerBound)
            }
            let codes = parts.codes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 1, level: level) }
            let scales = parts.scalesAndBiases.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 2, level: level) }
            return EncodedBlock(frames: [codes, scales], storage: storage)
        case .f16, .f32:
            let bytes: [UInt8]
            do {
                // Checked like the quantised paths: an inf or NaN norm weight would poison every result.
                bytes = try values.withUnsafeBufferPointer {
                    storage == .f16 ? try Quantizer.encodeFloat16(rows: $0, cols: cols) : try Quantizer.encodeFloat32(rows: $0, cols: cols)
                }
            } catch let error as QuantError {
                throw error.movedDown(by: rows.lowerBound)
            }
            let frame = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: storage == .f16 ? 2 : 4, level: level) }
            return EncodedBlock(frames: [frame], storage: storage)
        }
    }

    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}

extension PackSummary {
    mutating func add(_ block: Packer.EncodedBlock) {
        switch block.storage {
        case .q4, .q8:
            codesDecoded += block.frames[0].decodedLength
            codesStored += block.frames[0].stored.count
            scalesDecoded += block.frames[1].decodedLength
            scalesStored += block.frames[1].stored.count
        case .f16, .f32:
            floatsDecoded += block.frames[0].decodedLength
            floatsStored += block.frames[0].stored.count
        }
    }
}

extension QuantError {
    /// The same error with its row counted from `rows` rows earlier: block-relative rows become matrix rows.
    func movedDown(by rows: Int) -> QuantError {
        switch self {
        case let .nonFinite(row, column, value): return .nonFinite(row: row + rows, column: column, value: value)
        case let .outOfFloat16Range(row, column, value): return .outOfFloat16Range(row: row + rows, column: column, value: value)
        case .unsupportedLayout: return self
        }
    }
}

/// Per-block results filled in by concurrent workers, each writing its own index.
private final class BlockResults: @unchecked Sendable {
    private var results: [Result<Packer.EncodedBlock, any Error>?]
    private let lock = DispatchQueue(label: "wstream.pack.results")

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<Packer.EncodedBlock, any Error>) {
        lock.sync { results[index] = result }
    }

    func take(_ index: Int) -> Result<Packer.EncodedBlock, any Error> {
        lock.sync { results[index]! }
    }
}
