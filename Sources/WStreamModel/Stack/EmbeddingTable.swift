import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// Looks up token embeddings by decoding only the row block that holds the token from the file (the
/// table is stored in 32 KiB row blocks for this): a block per token costs microseconds, and the table's
/// units never have to be resident for it.
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

    /// The scratch block, and the file pages one lookup may hold until they are released: its frames widened to a
    /// release window on each side (`ContainerReader.adviseDontNeed(fileRange:)`).
    static func workingSetPart(for entry: TensorEntry) -> WorkingSet.Part {
        WorkingSet.Part("embedding lookup", bytes: scratchBytes(for: entry) + 2 * ContainerReader.releaseWindow)
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
                let frames = entry.frames[(block * entry.framesPerBlock)..<((block + 1) * entry.framesPerBlock)]
                let bytes = frames.reduce(0) { $0 + Int($1.decodedLength) }
                cachedBlock = nil  // a decode that fails half-way leaves the scratch holding neither block
                try reader.decodeBlock(entry, block: block, into: UnsafeMutableRawBufferPointer(start: scratch, count: bytes), using: decoder)
                reader.adviseDontNeed(fileRange: Int(frames.first!.offset)..<Int(frames.last!.offset + frames.last!.storedLength))
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
        self = WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock, base: base)
    }
}
