import Glibc
import WStreamQuant

/// Weight-like rows: mostly small values of varying spread, about 1 in 50 an outlier 30× larger.
func weightLikeValues(count: Int, seed: UInt64) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        let value = Float.random(in: -0.05...0.05, using: &generator) + Float.random(in: -0.01...0.03, using: &generator)
        return Int.random(in: 0..<50, using: &generator) == 0 ? value * 30 : value
    }
}

/// The quantised forms a kernel must compute on: each code width with each way of storing group parameters.
let quantizedForms: [(storage: WeightMatrix.Storage, parameters: GroupParameters)] =
    [WeightMatrix.Storage.q4, .q6, .q8].flatMap { storage in GroupParameters.allCases.map { (storage, $0) } }

/// A matrix in one of the stored forms, with the floats it was made from.
struct StoredMatrix {
    let storage: WeightMatrix.Storage
    let rows: Int
    let cols: Int
    let groupSize: Int
    let rowsPerBlock: Int
    let parameters: GroupParameters
    let source: [Float]
    let bytes: [UInt8]
    /// `max |w|` of the group holding each element (0 for f16/f32), for `magnitude`.
    let groupMax: [Float]

    /// Quantises (q4/q8) or encodes (f16/f32) `source`, block by block for q4/q8.
    init(storage: WeightMatrix.Storage, rows: Int, cols: Int, groupSize: Int = 32, rowsPerBlock: Int = 16,
         parameters: GroupParameters = .float16, source: [Float]) throws {
        self.storage = storage
        self.parameters = parameters
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.rowsPerBlock = rowsPerBlock
        self.source = source
        var bytes: [UInt8] = []
        try source.withUnsafeBufferPointer { values in
            switch storage {
            case .f32: bytes = try Quantizer.encodeFloat32(rows: values, cols: cols)
            case .f16: bytes = try Quantizer.encodeFloat16(rows: values, cols: cols)
            case .q4, .q6, .q8:
                let layout = QuantizedLayout(bits: storage.codeBits!, groupSize: groupSize, rows: rows, cols: cols, parameters: parameters)
                var first = 0
                while first < rows {
                    let count = min(rowsPerBlock, rows - first)
                    let block = try Quantizer.quantizeBlock(
                        UnsafeBufferPointer(rebasing: values[(first * cols)..<((first + count) * cols)]),
                        rowCount: count, layout: layout, firstRow: first)
                    bytes += block.codes + block.scalesAndBiases
                    first += count
                }
            }
        }
        self.bytes = bytes
        var groupMax = [Float](repeating: 0, count: source.count)
        if storage.codeBits != nil {
            for r in 0..<rows {
                for start in stride(from: 0, to: cols, by: groupSize) {
                    let range = (r * cols + start)..<(r * cols + min(start + groupSize, cols))
                    let largest = source[range].map(abs).max()!
                    for i in range { groupMax[i] = largest }
                }
            }
        }
        self.groupMax = groupMax
    }

    func withMatrix<R>(_ body: (WeightMatrix) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try body(WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize,
                                  rowsPerBlock: rowsPerBlock, parameters: parameters, base: raw.baseAddress!))
        }
    }

    /// A bound on `Σ_c |term_c|` for row `row` times `x`, covering the terms the kernels actually add:
    /// `scale·q·x` and `bias·x` separately. `|bias| ≤ max |w| of its group` (plus fp16 rounding) and
    /// `|scale·q| ≤ |ŵ| + |bias|`, so `(|ŵ| + 2.01·max|w|_group) · |x|` covers both.
    func magnitude(row: Int, _ x: [Float], dequantized: [Float]) -> Double {
        var total = 0.0
        for c in 0..<cols {
            let i = row * cols + c
            total += Double(abs(dequantized[i]) + 2.01 * groupMax[i]) * Double(abs(x[c]))
        }
        return total
    }
}

/// Inputs with NaN right after the last column: a kernel that reads past `cols` produces NaN.
func guardedInputs(count: Int, cols: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
    var generator = SplitMix64(seed: seed)
    let p = UnsafeMutablePointer<Float>.allocate(capacity: count * cols + 64)
    for i in 0..<(count * cols) { p[i] = Float.random(in: -2...2, using: &generator) }
    (p + count * cols).initialize(repeating: .nan, count: 64)
    return p
}

/// Bytes that end exactly where an inaccessible page begins: a kernel that reads one byte past them
/// crashes the test instead of reading a neighbour's memory unnoticed.
final class GuardedBytes {
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int
    let start: UnsafeRawPointer

    init(_ bytes: [UInt8]) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataPages = max((bytes.count + page - 1) / page, 1)
        mappedBytes = (dataPages + 1) * page
        guard let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { fatalError("mmap of \(mappedBytes) bytes failed") }
        mapping = mapped
        precondition(mprotect(mapping + dataPages * page, page, PROT_NONE) == 0, "mprotect failed")
        let first = mapping + dataPages * page - bytes.count
        bytes.withUnsafeBytes { first.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        start = UnsafeRawPointer(first)
    }

    deinit { munmap(mapping, mappedBytes) }
}

extension StoredMatrix {
    /// The matrix in `GuardedBytes`, so reading past its last byte faults.
    func withGuardedMatrix<R>(_ body: (WeightMatrix) throws -> R) rethrows -> R {
        let guarded = GuardedBytes(bytes)
        return try withExtendedLifetime(guarded) {
            try body(WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize,
                                  rowsPerBlock: rowsPerBlock, parameters: parameters, base: guarded.start))
        }
    }
}
