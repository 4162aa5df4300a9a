import Glibc

/// Times `MatrixKernels` on random weights (the CLI's `bench` command).
public enum KernelBenchmark {
    /// Runs `iterations` products of a random `rows × cols` matrix and reports the mean time per product.
    /// - Parameters:
    ///   - rows: output rows.
    ///   - cols: input columns.
    ///   - bits: 4 or 8 (affine groups), 16 (fp16) or 32 (float32).
    ///   - groupSize: affine group size for 4/8 bits (a multiple of 32).
    ///   - threads: threads in the compute pool.
    ///   - iterations: timed products (after one untimed warm-up).
    ///   - inputs: inputs per product: 1 is a matvec (decode), more a matmul (prefill).
    /// - Returns: milliseconds per product, and weight bytes read per second in GB/s (10⁹ bytes).
    public static func run(
        rows: Int, cols: Int, bits: Int, groupSize: Int, threads: Int, iterations: Int, inputs: Int = 1
    ) -> (milliseconds: Double, gigabytesPerSecond: Double) {
        let storage: WeightMatrix.Storage
        switch bits {
        case 4: storage = .q4
        case 8: storage = .q8
        case 16: storage = .f16
        case 32: storage = .f32
        default: preconditionFailure("KernelBenchmark: bits must be 4, 8, 16 or 32, not \(bits)")
        }
        let rowsPerBlock = 64
        let layout = bits <= 8 ? QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols) : nil
        let byteCount = layout?.byteCount ?? rows * cols * bits / 8
        let weights = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        defer { weights.deallocate() }
        var generator = SplitMix64(seed: 42)
        fillRandom(weights, byteCount: byteCount, storage: storage, layout: layout, rowsPerBlock: rowsPerBlock, &generator)
        let w = WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                             base: UnsafeRawPointer(weights))

        let x = UnsafeMutablePointer<Float>.allocate(capacity: inputs * cols)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: inputs * rows)
        defer { x.deallocate(); y.deallocate() }
        for i in 0..<(inputs * cols) { x[i] = generator.nextFloat() - 0.5 }

        let pool = ComputePool(threadCount: threads)
        MatrixKernels.matmul(w, x, count: inputs, y, pool: pool)
        let start = monotonicSeconds()
        for _ in 0..<iterations { MatrixKernels.matmul(w, x, count: inputs, y, pool: pool) }
        let seconds = (monotonicSeconds() - start) / Double(max(iterations, 1))
        return (seconds * 1e3, Double(byteCount) / seconds / 1e9)
    }

    /// Random codes, and scales and biases of a realistic size, so no NaN or inf slows the arithmetic.
    private static func fillRandom(
        _ p: UnsafeMutableRawPointer, byteCount: Int, storage: WeightMatrix.Storage, layout: QuantizedLayout?,
        rowsPerBlock: Int, _ generator: inout SplitMix64
    ) {
        switch storage {
        case .f32:
            for i in 0..<(byteCount / 4) { p.storeBytes(of: generator.nextFloat() - 0.5, toByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<(byteCount / 2) { p.storeBytes(of: Float16(generator.nextFloat() - 0.5), toByteOffset: 2 * i, as: Float16.self) }
        case .q4, .q8:
            let layout = layout!
            var firstRow = 0
            var offset = 0
            while firstRow < layout.rows {
                let blockRows = min(rowsPerBlock, layout.rows - firstRow)
                let codeBytes = blockRows * layout.codeBytesPerRow
                for i in 0..<codeBytes { p.storeBytes(of: UInt8(truncatingIfNeeded: generator.next()), toByteOffset: offset + i, as: UInt8.self) }
                let parameterCount = 2 * blockRows * layout.groupsPerRow
                for i in 0..<parameterCount {
                    let value = Float16(generator.nextFloat() * 0.01)
                    p.storeBytes(of: value, toByteOffset: offset + codeBytes + 2 * i, as: Float16.self)
                }
                offset += layout.blockByteCount(rows: blockRows)
                firstRow += blockRows
            }
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}
