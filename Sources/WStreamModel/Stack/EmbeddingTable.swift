import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// Looks up token embeddings by reading only the row block that holds the token from the file (`pread`; the
/// table is stored in row blocks of 32 KiB, or 256 KiB when it is also the head): a block per token costs
/// microseconds, and the table's units never have to be resident for it.
final class EmbeddingTable {
    private let reader: ContainerReader
    private let entry: TensorEntry
    private let decoder = FrameDecoder()
    /// One decoded row block, reused; `cachedBlock` says which.
    private let scratch: UnsafeMutableRawPointer
    private var cachedBlock: Int?

    /// Bytes of the scratch block buffer.
    private static func scratchBytes(for entry: TensorEntry) -> Int {
        // The first block is a largest one (only the last may hold fewer rows).
        entry.frames.prefix(entry.framesPerBlock).reduce(0) { $0 + Int($1.decodedLength) }
    }

    /// The scratch block, and the decoder's staging buffer for a block whose frames are compressed.
    static func workingSetPart(for entry: TensorEntry) -> WorkingSet.Part {
        WorkingSet.Part("embedding lookup", bytes: 2 * scratchBytes(for: entry))
    }

    init(reader: ContainerReader, entry: TensorEntry) {
        self.reader = reader
        self.entry = entry
        scratch = .allocate(byteCount: max(Self.scratchBytes(for: entry), 64), alignment: 64)
    }

    deinit { scratch.deallocate() }

    /// Writes the embedding of each id as one row of `destination` (`ids.count × hidden` floats).
    func lookup(_ ids: ArraySlice<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        for (row, id) in ids.enumerated() {
            guard id >= 0, id < entry.rows else { throw ModelError.tokenOutOfRange(id: id, vocabularySize: entry.rows) }
            let output = destination + row * entry.cols
            let block = id / entry.rowsPerBlock
            let rowsInBlock = min(entry.rowsPerBlock, entry.rows - block * entry.rowsPerBlock)
            if cachedBlock != block {
                cachedBlock = nil  // a read that fails half-way leaves the scratch holding neither block
                try reader.readBlock(entry, block: block, into: UnsafeMutableRawBufferPointer(start: scratch, count: entry.decodedByteCount(ofBlock: block)),
                                     using: decoder)
                cachedBlock = block
            }
            let matrix = WeightMatrix(entry: entry, base: scratch, rows: rowsInBlock)
            MatrixKernels.dequantizeRow(matrix, row: id - block * entry.rowsPerBlock, into: output)
        }
    }
}

extension WeightMatrix {
    /// A view of one decoded row block of `entry` holding `rows` rows.
    init(entry: TensorEntry, base: UnsafeRawPointer, rows: Int) {
        self.init(entry: entry, base: base)
        self = WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                            parameters: parameters, base: base)
    }
}
