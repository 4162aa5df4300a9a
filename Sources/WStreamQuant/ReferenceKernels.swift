/// Plain scalar definitions of `MatrixKernels`, kept beside the SIMD kernels (as llama.cpp does) so tests
/// can compare the two on any shape. Each weight is dequantised on its own (`scale · q + bias`) and sums
/// run in Double, so that a comparison measures the SIMD kernel's rounding and nothing else.
///
/// `matvec`/`matmul` define the float32-activation kernels; `integerMatvec`/`integerMatmul` the int8 ones
/// (`ActivationPrecision.int8`), with `quantizeActivations` the scalar twin of `QuantizedActivations`.
public enum ReferenceKernels {
    /// The stored weight at `row`, `column`, as a float.
    public static func weight(_ w: WeightMatrix, row: Int, column: Int) -> Float {
        precondition(row >= 0 && row < w.rows && column >= 0 && column < w.cols, "(\(row), \(column)) outside \(w.rows)×\(w.cols)")
        switch w.storage {
        case .f32:
            return w.base.loadUnaligned(fromByteOffset: 4 * (row * w.cols + column), as: Float.self)
        case .f16:
            return Float(w.base.loadUnaligned(fromByteOffset: 2 * (row * w.cols + column), as: Float16.self))
        case .q4, .q6, .q8:
            let addressing = QuantizedAddressing(w)
            let r = addressing.row(row)
            let group = column / w.groupSize
            return r.scale(group) * Float(addressing.layout.code(r.codes, column: column)) + r.bias(group)
        }
    }

    /// `y[rows] = W · x[cols]`.
    public static func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<w.rows {
            var sum = 0.0
            for c in 0..<w.cols { sum += Double(weight(w, row: r, column: c)) * Double(x[c]) }
            y[r] = Float(sum)
        }
    }

    /// `Y[n][rows] = X[n][cols] · Wᵀ`.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>) {
        for t in 0..<n { matvec(w, x + t * w.cols, y + t * w.rows) }
    }

    /// Row `row` as floats into `destination[cols]`.
    public static func dequantizeRow(_ w: WeightMatrix, row: Int, into destination: UnsafeMutablePointer<Float>) {
        for c in 0..<w.cols { destination[c] = weight(w, row: row, column: c) }
    }

    /// The int8 activations the integer kernels compute with: for each chunk of 32 columns (the last
    /// zero-padded) its codes in column order and its scale `d`, with `x ≈ d · q`.
    ///
    /// `d = max|x| / 127`, `q = x · (127 / max|x|)` rounded to nearest (ties to even), which stays within ±127;
    /// a chunk below 2⁻¹⁰⁰ in magnitude is zeros with `d = 0`, one holding an infinity or NaN zeros with `d = NaN`.
    public static func quantizeActivations(_ x: UnsafePointer<Float>, cols: Int) -> (codes: [Int8], scales: [Float]) {
        let chunks = (cols + 31) / 32
        var codes = [Int8](repeating: 0, count: chunks * 32)
        var scales = [Float](repeating: 0, count: chunks)
        for chunk in 0..<chunks {
            let columns = (chunk * 32)..<min(chunk * 32 + 32, cols)
            let largest = columns.map { x[$0].bitPattern & 0x7FFF_FFFF }.max()!
            if largest >= 0x7F80_0000 {
                scales[chunk] = .nan
                continue
            }
            let amax = Float(bitPattern: largest)
            if amax < 0x1p-100 { continue }
            let inverse = 127 / amax
            for c in columns { codes[c] = Int8((x[c] * inverse).rounded(.toNearestOrEven)) }
            scales[chunk] = amax / 127
        }
        return (codes, scales)
    }

    /// `y[rows] = Ŵ · x̂`: the stored weights times the int8 activations of `x` (`quantizeActivations`),
    /// each product `ŵ · d · q` summed in Double.
    public static func integerMatvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let (codes, scales) = quantizeActivations(x, cols: w.cols)
        for r in 0..<w.rows {
            var sum = 0.0
            for c in 0..<w.cols { sum += Double(weight(w, row: r, column: c)) * Double(scales[c / 32]) * Double(codes[c]) }
            y[r] = Float(sum)
        }
    }

    /// `Y[n][rows] = X̂[n][cols] · Ŵᵀ`, one `integerMatvec` per input.
    public static func integerMatmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>) {
        for t in 0..<n { integerMatvec(w, x + t * w.cols, y + t * w.rows) }
    }
}
