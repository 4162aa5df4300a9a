#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamImport
import WStreamQuant

/// Converts an imported model into a `.wst` file: quantise, frame, compress, write (atomically).
///
/// Row blocks are converted on `PackOptions.threads` worker threads a few blocks ahead of the writer, which
/// appends them in file order as they come, so converting and writing overlap and memory stays at a few blocks
/// per thread whatever the model's size; sources are read through their mappings. The file does not depend
/// on the thread count.
public enum Packer {
    /// Packs `model` into `destination`.
    /// - Throws: `PackError` for options or tensors it cannot place or values it cannot store (inf, NaN, beyond fp16),
    ///   `FormatError` for I/O; nothing is left at `destination` when it throws.
    @discardableResult
    public static func pack(_ model: ImportedModel, to destination: String, options: PackOptions,
                            progress: ((PackProgress) -> Void)? = nil) throws -> PackSummary {
        guard PackOptions.supportedBits.contains(options.bits) else { throw PackError.unsupportedBits(options.bits) }
        guard PackOptions.supportedGroupSizes.contains(options.groupSize) else { throw PackError.unsupportedGroupSize(options.groupSize) }
        guard PackOptions.supportedBits.contains(options.effectiveHeadBits) else { throw PackError.unsupportedBits(options.effectiveHeadBits) }
        let clock = ContinuousClock()
        let start = clock.now
        let layout = try PackLayout(model: model, options: options)
        let writer = try ContainerWriter(destination: destination)
        let jobs = layout.placements.indices.flatMap { tensor in BlockJob.jobs(for: layout.placements[tensor], tensor: tensor) }
        let sourceName = model.source
        // Enough jobs ahead that a worker rarely waits for the writer, few enough to bound memory.
        let pipeline = BlockPipeline(count: jobs.count, window: 4 * max(1, options.threads), threads: options.threads) { index in
            try encodeBlocks(jobs[index], of: layout.placements[jobs[index].tensor], from: sourceName, options: options)
        }
        defer { pipeline.finish() }

        var summary = PackSummary()
        let totalBytes = layout.placements.reduce(0) { $0 + $1.source.shape.reduce(1, *) * 4 }
        var doneBytes = 0
        var currentRegion = -1
        var tensorGroups = CarriedGroupCounts()
        for (index, job) in jobs.enumerated() {
            let placement = layout.placements[job.tensor]
            let source = placement.source
            if job.blocks.lowerBound == 0 {
                if placement.region != currentRegion {
                    currentRegion = placement.region
                    try writer.beginRegion(layout.regionNames[currentRegion])
                }
                try writer.beginTensor(name: source.name, shape: source.shape, storage: placement.storage,
                                       groupSize: placement.storage.codeBits != nil ? placement.groupSize : 0,
                                       rowsPerBlock: placement.rowsPerBlock)
                tensorGroups = CarriedGroupCounts()
            }
            for encoded in try pipeline.take(index) {
                try writer.appendBlock(encoded.frames)
                summary.add(encoded)
                if let counts = encoded.carriedGroups { tensorGroups.add(counts) }
            }
            if job.blocks.upperBound == placement.blockCount {
                let origin = placement.origin
                summary.origins[origin, default: 0] += 1
                if placement.carried != nil { summary.carriedGroups[origin.source, default: CarriedGroupCounts()].add(tensorGroups) }
                try writer.endTensor(origin: tensorGroups.note.map { "\(origin): \($0)" } ?? origin.description)
                doneBytes += source.shape.reduce(1, *) * 4
                progress?(PackProgress(tensorName: source.name, tensorsDone: job.tensor + 1,
                                       tensorCount: layout.placements.count, bytesDone: doneBytes, bytesTotal: totalBytes))
            }
        }
        let quantization = QuantizationInfo(bits: options.bits, groupSize: options.bits <= 8 ? commonGroupSize(layout, options) : 0)
        try writer.finish(config: model.config, tokenizer: model.tokenizer, quantization: quantization,
                          producer: ["source": model.source, "tool": "wstream pack", "quantizer": options.method.rawValue,
                                     "headBits": String(options.effectiveHeadBits)])
        summary.tensorCount = layout.placements.count
        summary.parameterCount = layout.placements.reduce(0) { $0 + $1.source.shape.reduce(1, *) }
        summary.outputBytes = fileSize(destination)
        summary.seconds = Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds) * 1e-18
        return summary
    }

    /// Row blocks `blocks` of tensor `tensor` (an index into the layout's placements), converted as one unit.
    struct BlockJob: Sendable {
        let tensor: Int
        let blocks: Range<Int>

        /// The jobs of one tensor: runs of blocks of about `PackLayout.targetBlockBytes` decoded bytes.
        ///
        /// The token table's small blocks are grouped: one read per run releases the source pages it mapped
        /// (see `TensorSource.readRows`) in one piece, where many small reads interleaved across threads would
        /// leave pages mapped around each read's edges and let the resident set grow with the table.
        static func jobs(for placement: PackLayout.Placement, tensor: Int) -> [BlockJob] {
            let perJob = max(1, PackLayout.targetBlockBytes / max(1, placement.rowsPerBlock * placement.rowBytes))
            return stride(from: 0, to: placement.blockCount, by: perJob).map {
                BlockJob(tensor: tensor, blocks: $0..<min(placement.blockCount, $0 + perJob))
            }
        }
    }

    /// One encoded row block and what it contributes to the summary.
    struct EncodedBlock: Sendable {
        var frames: [EncodedFrame]
        var storage: StorageType
        /// How its groups went, when they were carried from the source.
        var carriedGroups: CarriedGroupCounts?
    }

    /// The group size of most quantized weights: the options' unless carried groups of another size dominate.
    private static func commonGroupSize(_ layout: PackLayout, _ options: PackOptions) -> Int {
        var weights: [Int: Int] = [:]
        for placement in layout.placements where placement.storage.codeBits != nil {
            weights[placement.groupSize, default: 0] += placement.source.shape.reduce(1, *)
        }
        return weights.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? options.groupSize
    }

    /// Reads, converts and encodes the blocks of one job.
    /// - Throws: `PackError.unstorableTensor` naming `sourceName` and the tensor for values that cannot be stored.
    private static func encodeBlocks(
        _ job: BlockJob, of placement: PackLayout.Placement, from sourceName: String, options: PackOptions
    ) throws -> [EncodedBlock] {
        let source = placement.source
        let rowCount = source.shape.count == 2 ? source.shape[0] : 1
        let cols = source.shape.last ?? 0
        let rows = (job.blocks.lowerBound * placement.rowsPerBlock)..<min(rowCount, job.blocks.upperBound * placement.rowsPerBlock)
        if let carried = placement.carried {
            let sourceRows = try CarriedGroups.SourceRows(rows, of: carried, groupSize: placement.groupSize)
            return try job.blocks.map { block in
                let blockRows = (block * placement.rowsPerBlock)..<min(rowCount, (block + 1) * placement.rowsPerBlock)
                do {
                    return try encodeCarried(blockRows, of: sourceRows, placement: placement, options: options)
                } catch let error as QuantError {
                    throw PackError.unstorableTensor(source: sourceName, tensor: source.name, reason: error.description)
                }
            }
        }
        // Uninitialised: readRows writes every element (Float needs no initialisation before it is overwritten).
        let values = try [Float](unsafeUninitializedCapacity: rows.count * cols) { buffer, initialized in
            try source.readRows(rows, into: buffer)
            initialized = buffer.count
        }
        return try values.withUnsafeBufferPointer { values in
            try job.blocks.map { block in
                let blockRows = (block * placement.rowsPerBlock)..<min(rowCount, (block + 1) * placement.rowsPerBlock)
                let start = (blockRows.lowerBound - rows.lowerBound) * cols
                let slice = UnsafeBufferPointer(rebasing: values[start..<(start + blockRows.count * cols)])
                do {
                    return try encodeRows(blockRows, values: slice, cols: cols, storage: placement.storage, groupSize: placement.groupSize,
                                          options: options)
                } catch let error as QuantError {
                    throw PackError.unstorableTensor(source: sourceName, tensor: source.name, reason: error.description)
                }
            }
        }
    }

    /// Encodes rows `rows` of a matrix from the source's own groups (see `CarriedGroups`) as one block.
    private static func encodeCarried(
        _ rows: Range<Int>, of source: CarriedGroups.SourceRows, placement: PackLayout.Placement, options: PackOptions
    ) throws -> EncodedBlock {
        let layout = QuantizedLayout(storage: placement.storage, groupSize: placement.groupSize, rows: rows.count, cols: source.cols)
        let block = try CarriedGroups.encode(rows, of: source, layout: layout, method: options.method)
        return EncodedBlock(frames: [encodeFrame(block.codes, shuffle: 1, options: options), encodeFrame(block.scalesAndBiases, shuffle: 2, options: options)],
                            storage: placement.storage, carriedGroups: block.counts)
    }

    /// Converts and encodes rows `rows` of a matrix (their `values`) as one block.
    private static func encodeRows(
        _ rows: Range<Int>, values: UnsafeBufferPointer<Float>, cols: Int, storage: StorageType, groupSize: Int, options: PackOptions
    ) throws -> EncodedBlock {
        func encode(_ bytes: [UInt8], shuffle: Int) -> EncodedFrame { encodeFrame(bytes, shuffle: shuffle, options: options) }
        switch storage {
        case .q4, .q6, .q8, .q4r, .q6r, .q8r:
            let layout = QuantizedLayout(storage: storage, groupSize: groupSize, rows: rows.count, cols: cols)
            let parts = try Quantizer.quantizeBlock(values, rowCount: rows.count, layout: layout, firstRow: rows.lowerBound, method: options.method)
            // fp16 parameters shuffle as 2-byte values; row-scaled ones are bytes (and a few float32s).
            return EncodedBlock(frames: [encode(parts.codes, shuffle: 1), encode(parts.scalesAndBiases, shuffle: storage.isRowScaled ? 1 : 2)],
                                storage: storage)
        case .f16, .f32:
            let bytes: [UInt8]
            do {
                // Checked like the quantised paths: an inf or NaN norm weight would poison every result.
                bytes = storage == .f16
                    ? try Quantizer.encodeFloat16(rows: values, cols: cols) : try Quantizer.encodeFloat32(rows: values, cols: cols)
            } catch let error as QuantError {
                throw error.movedDown(by: rows.lowerBound)
            }
            return EncodedBlock(frames: [encode(bytes, shuffle: storage == .f16 ? 2 : 4)], storage: storage)
        }
    }

    /// One frame of `bytes`: raw, or zstd-compressed (shuffled by `shuffle` first) when the options ask for it.
    private static func encodeFrame(_ bytes: [UInt8], shuffle: Int, options: PackOptions) -> EncodedFrame {
        bytes.withUnsafeBytes { bytes in
            options.compressionLevel.map { FrameEncoder.encode(bytes, shuffleElementSize: shuffle, level: $0) } ?? FrameEncoder.raw(bytes)
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
        case .q4, .q6, .q8, .q4r, .q6r, .q8r:
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
