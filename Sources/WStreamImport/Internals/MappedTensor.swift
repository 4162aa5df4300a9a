#if canImport(Glibc)
import Glibc
#endif

/// A tensor stored in a mapped file, converted to float32 row by row on read.
///
/// Both importers produce these: the byte layout is the same (row-major, rows of `cols` elements),
/// only the element encoding and, for GGUF `llama` Q/K, the row order differ.
struct MappedTensor: TensorSource {
    let name: String
    let shape: [Int]
    let storage: StorageType
    let file: MappedFile
    /// Absolute byte offset of row 0 in `file`.
    let offset: Int
    /// Maps a requested row to the stored row; nil when they are the same.
    let rowOrder: RoPERowOrder?

    var sourceType: String { storage.rawValue }

    var rowCount: Int { shape.count == 1 ? 1 : shape[0] }
    var columnCount: Int { shape.count == 1 ? shape[0] : shape[1] }

    /// Total bytes the tensor occupies in the file.
    var byteCount: Int { rowCount * (storage.rowBytes(cols: columnCount) ?? 0) }

    /// - Throws: `ImportError.unsupported` when a row is not a whole number of quantization blocks,
    ///   `.tensorOutOfBounds` when the data does not lie inside the file.
    init(name: String, shape: [Int], storage: StorageType, file: MappedFile, offset: Int, rowOrder: RoPERowOrder? = nil) throws {
        precondition(shape.count == 1 || shape.count == 2, "tensors are vectors or matrices")
        self.name = name
        self.shape = shape
        self.storage = storage
        self.file = file
        self.offset = offset
        self.rowOrder = rowOrder
        guard let rowBytes = storage.rowBytes(cols: columnCount) else {
            throw ImportError.unsupported(
                file: file.path,
                detail: "tensor '\(name)' has rows of \(columnCount) elements, not a multiple of \(storage.rawValue)'s block of \(storage.blockElements)")
        }
        let (total, overflow) = rowCount.multipliedReportingOverflow(by: rowBytes)
        try file.checkRange(offset: offset, count: overflow ? Int.max : total, tensor: name)
    }

    func readRows(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard !rows.isEmpty else { return }
        let cols = columnCount
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount, destination.count >= rows.count * cols,
            let output = destination.baseAddress
        else {
            throw ImportError.invalidRowRange(tensor: name, rows: rows, rowCount: rowCount, destinationCount: destination.count)
        }
        let rowBytes = storage.rowBytes(cols: cols)!
        var lowest = Int.max
        var highest = 0
        for (index, row) in rows.enumerated() {
            let stored = rowOrder?.storedRow(row) ?? row
            storage.decodeRow(file.base + offset + stored * rowBytes, cols: cols, into: output + index * cols)
            lowest = min(lowest, stored)
            highest = max(highest, stored)
        }
        // Rows are read once (by the packer); keeping their pages would make its RSS grow to the model's size.
        file.releasePages(offset: offset + lowest * rowBytes, count: (highest - lowest + 1) * rowBytes)
    }

    /// True when `other` holds exactly the same bytes (GGUF files often store a tied output head twice).
    func hasSameBytes(as other: MappedTensor) -> Bool {
        guard shape == other.shape, storage == other.storage, rowOrder == nil, other.rowOrder == nil else { return false }
        return memcmp(file.base + offset, other.file.base + other.offset, byteCount) == 0
    }
}
