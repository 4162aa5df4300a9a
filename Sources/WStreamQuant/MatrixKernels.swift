/// Products of weight matrices with activations, computed directly on the stored form.
///
/// Quantised kernels never materialise float weights. By default (`ActivationPrecision.int8`) each input is
/// quantised once per product to int8 in blocks of 32 columns and the dot products run in integers
/// (`IntegerKernel`, in the fastest `KernelFamily` the build has); with `.float32` each group is decoded
/// to floats in registers (`QuantizedDot`). Both fold the affine bias out of the inner loop
/// (`y = Σ_g s_g · (q_g · x_g) + Σ_g b_g · Σ x_g`). f16/f32 weights always compute in float32. Work is split
/// over output rows in chunks of a multiple of 16 rows across `pool`. `ReferenceKernels` holds the plain
/// scalar definitions these are tested against.
public enum MatrixKernels {
    /// `y[rows] = W · x[cols]`.
    /// - Parameters:
    ///   - w: the weights.
    ///   - x: `cols` floats; nothing beyond them is read.
    ///   - y: `rows` floats, written.
    ///   - pool: threads to split the rows over.
    ///   - precision: how q4/q6/q8 weights meet the activations (ignored for f16/f32).
    ///   - kernels: the integer kernels to use; one of `KernelFamily.available`.
    public static func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ComputePool,
                              precision: ActivationPrecision = .int8, kernels: KernelFamily = .native) {
        matmul(w, x, count: 1, y, pool: pool, precision: precision, kernels: kernels)
    }

    /// `Y[n][rows] = X[n][cols] · Wᵀ`: each weight tile is decoded once for a whole pass of inputs.
    /// - Parameters:
    ///   - w: the weights.
    ///   - x: `n · cols` floats, one input per row.
    ///   - n: number of inputs.
    ///   - y: `n · rows` floats, one output per row, written.
    ///   - pool: threads to split the rows over.
    ///   - precision: how q4/q6/q8 weights meet the activations (ignored for f16/f32).
    ///   - kernels: the integer kernels to use; one of `KernelFamily.available`.
    ///   - path: which integer kernels the inputs take (int8 only).
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>,
                              pool: ComputePool, precision: ActivationPrecision = .int8, kernels: KernelFamily = .native,
                              path: IntegerPath = .automatic) {
        guard n > 0, w.rows > 0 else { return }
        switch (w.storage, precision) {
        case (.q4, .int8), (.q6, .int8), (.q8, .int8):
            integerProduct([w], x, count: n, into: [y], pool: pool, kernels: kernels, path: path, finish: nil)
        case (.q4, .float32): quantizedProduct(FourBitCodes.self, w, x, count: n, y, pool: pool)
        case (.q6, .float32): quantizedProduct(SixBitFloatCodes.self, w, x, count: n, y, pool: pool)
        case (.q8, .float32): quantizedProduct(EightBitCodes.self, w, x, count: n, y, pool: pool)
        case (.f32, _): floatProduct(Float32Elements.self, w, x, count: n, y, pool: pool)
        case (.f16, _): floatProduct(Float16Elements.self, w, x, count: n, y, pool: pool)
        }
    }

    /// `Y_k[n][rows] = X[n][cols] · W_kᵀ` for matrices of one shape that read the same input, then
    /// `finish(rows, inputs)` on each part of the outputs once every matrix has written it.
    ///
    /// When the matrices share one quantised layout and take int8 activations, the input is quantised once and
    /// each range of rows a thread claims (`RowParts`) is computed for every matrix in one hand-over to the pool;
    /// `finish` then runs on the thread that computed the range, while the outputs are still in its cache (a SwiGLU
    /// multiplies gate by up there). Otherwise the products run one after another and `finish` runs once on
    /// everything. Either way each output is what `matmul` gives for its matrix alone.
    /// - Parameters:
    ///   - ws: the weights; all of `ws[0]`'s rows and columns.
    ///   - x: `n · cols` floats, one input per row.
    ///   - n: number of inputs.
    ///   - ys: one output per matrix, `n · rows` floats each, written.
    ///   - pool: threads to split the rows over.
    ///   - precision: how q4/q6/q8 weights meet the activations (ignored for f16/f32).
    ///   - kernels: the integer kernels to use; one of `KernelFamily.available`.
    ///   - path: which integer kernels the inputs take (int8 only).
    ///   - finish: called with disjoint ranges of rows, and the inputs whose outputs they hold, from several of the
    ///     pool's threads at once.
    public static func matmul(_ ws: [WeightMatrix], _ x: UnsafePointer<Float>, count n: Int, into ys: [UnsafeMutablePointer<Float>],
                              pool: ComputePool, precision: ActivationPrecision = .int8, kernels: KernelFamily = .native,
                              path: IntegerPath = .automatic, finish: (_ rows: Range<Int>, _ inputs: Range<Int>) -> Void) {
        precondition(!ws.isEmpty && ws.count == ys.count, "one output per matrix")
        let first = ws[0]
        precondition(ws.allSatisfy { $0.rows == first.rows && $0.cols == first.cols }, "matrices of one shape")
        guard n > 0, first.rows > 0 else { return }
        let integer = precision == .int8 && first.storage != .f32 && first.storage != .f16
        let layout = integer ? QuantizedAddressing(first).layout : nil
        if integer && ws.allSatisfy({ $0.storage == first.storage && QuantizedAddressing($0).layout == layout }) {
            withoutActuallyEscaping(finish) { finish in
                integerProduct(ws, x, count: n, into: ys, pool: pool, kernels: kernels, path: path, finish: finish)
            }
            return
        }
        for (w, y) in zip(ws, ys) {
            matmul(w, x, count: n, y, pool: pool, precision: precision, kernels: kernels, path: path)
        }
        finish(0..<first.rows, 0..<n)
    }

    /// `Y_k[n][rows_k] = X[n][cols] · W_kᵀ` for matrices of any heights that read the same input (a block's query,
    /// key and value projections).
    ///
    /// Consecutive matrices that share one quantised layout but for their heights, take int8 activations and, but
    /// for the last of them, are whole tiles of 16 rows run as one product: the input is quantised once and their
    /// rows, end to end, are shared among the threads in one hand-over (`RowParts`). For a 1B model's 2048 query rows
    /// and 512 key and value rows each, that is one quantising and one wait for the slower thread where there were
    /// two. Other matrices run alone. Either way each output is what `matmul` gives for its matrix alone.
    /// - Parameters:
    ///   - ws: the weights, all of `ws[0]`'s columns.
    ///   - x: `n · cols` floats, one input per row.
    ///   - n: number of inputs.
    ///   - ys: one output per matrix, `n · ws[k].rows` floats each, written.
    ///   - pool: threads to split the rows over.
    ///   - precision: how q4/q6/q8 weights meet the activations (ignored for f16/f32).
    ///   - kernels: the integer kernels to use; one of `KernelFamily.available`.
    ///   - path: which integer kernels the inputs take (int8 only).
    public static func matmul(stacked ws: [WeightMatrix], _ x: UnsafePointer<Float>, count n: Int, into ys: [UnsafeMutablePointer<Float>],
                              pool: ComputePool, precision: ActivationPrecision = .int8, kernels: KernelFamily = .native,
                              path: IntegerPath = .automatic) {
        precondition(!ws.isEmpty && ws.count == ys.count, "one output per matrix")
        precondition(ws.allSatisfy { $0.cols == ws[0].cols }, "matrices that read one input")
        guard n > 0 else { return }
        /// Whether `next` can follow `previous` in one product.
        func stacks(_ previous: WeightMatrix, _ next: WeightMatrix) -> Bool {
            guard precision == .int8, let layout = previous.quantizedLayout, let following = next.quantizedLayout else { return false }
            return next.storage == previous.storage && previous.rows % RowParts.tileRows == 0 && following.withRows(layout.rows) == layout
        }
        var start = 0
        while start < ws.count {
            var end = start + 1
            while end < ws.count && stacks(ws[end - 1], ws[end]) { end += 1 }
            if end - start == 1 {
                matmul(ws[start], x, count: n, ys[start], pool: pool, precision: precision, kernels: kernels, path: path)
            } else {
                integerProduct(Array(ws[start..<end]), x, count: n, into: Array(ys[start..<end]), pool: pool, kernels: kernels, path: path, finish: nil)
            }
            start = end
        }
    }

    /// Dequantises row `row` into `destination[cols]` (embedding lookup).
    public static func dequantizeRow(_ w: WeightMatrix, row: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < w.rows, "row \(row) outside 0..<\(w.rows)")
        switch w.storage {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: w.base + row * w.cols * 4, byteCount: w.cols * 4)
        case .f16:
            let p = w.base + row * w.cols * 2
            for c in 0..<w.cols { destination[c] = loadFloat16(p, c) }
        case .q4, .q6, .q8:
            precondition(!w.interleaved, "dequantizeRow reads rows in the file's layout")
            let addressing = QuantizedAddressing(w)
            let r = addressing.row(row)
            for c in 0..<w.cols {
                let g = c / w.groupSize
                destination[c] = r.scale(g) * Float(addressing.layout.code(r.codes, column: c)) + r.bias(g)
            }
        }
    }

    /// Inputs prepared per pass, so that the scratch stays near 1 MiB however long the prompt.
    static func inputsPerPass(count n: Int, layout: QuantizedLayout) -> Int {
        let fit = (1 << 18) / (layout.paddedCols + layout.groupsPerRow)
        if n <= max(fit, 4) { return n }
        return max(fit / 4 * 4, 4)
    }

    /// Scratch for int8 inputs per pass: the inputs of a pass stay in L2 while every row tile passes over them.
    /// Passes hold a multiple of 8 inputs when they can, the prefill tile of `VNNIPanelKernel`.
    static let integerPassBytes = 512 << 10

    /// What the grouped `matmul` runs on each finished part of its outputs.
    private typealias Finish = (_ rows: Range<Int>, _ inputs: Range<Int>) -> Void

    /// Products of matrices of one quantised layout, one output each, in the fastest kernels that take the layout.
    private static func integerProduct(_ ws: [WeightMatrix], _ x: UnsafePointer<Float>, count n: Int, into ys: [UnsafeMutablePointer<Float>],
                                       pool: ComputePool, kernels: KernelFamily, path: IntegerPath, finish: Finish?) {
        precondition(ws.allSatisfy { !$0.interleaved } || kernels == .avx512vnni, "interleaved rows need the AVX-512 VNNI kernels")
        let layout = QuantizedAddressing(ws[0]).layout
        switch kernels {
        case .avx512vnni:
            #if WSTREAM_AVX512VNNI
            if VNNIKernel.supports(layout) { return integerProduct(VNNIKernel.self, ws, x, count: n, into: ys, pool: pool, path: path, finish: finish) }
            #else
            preconditionFailure("this build has no AVX-512 VNNI kernels; KernelFamily.available lists those it has")
            #endif
        case .avx2:
            #if WSTREAM_AVX2
            if AVX2Kernel.supports(layout) { return integerProduct(AVX2Kernel.self, ws, x, count: n, into: ys, pool: pool, path: path, finish: finish) }
            #else
            preconditionFailure("this build has no AVX2 kernels; KernelFamily.available lists those it has")
            #endif
        case .portable:
            break
        }
        integerProduct(PortableIntegerKernel.self, ws, x, count: n, into: ys, pool: pool, path: path, finish: finish)
    }

    private static func integerProduct<Kernel: IntegerKernel>(
        _: Kernel.Type, _ ws: [WeightMatrix], _ x: UnsafePointer<Float>, count n: Int, into ys: [UnsafeMutablePointer<Float>],
        pool: ComputePool, path: IntegerPath, finish: Finish?
    ) {
        let addressings = ws.map(QuantizedAddressing.init)
        let layout = addressings[0].layout
        let cols = layout.cols
        // Matrices of one height compute each claimed range for every matrix (so `finish` sees whole rows);
        // matrices of different heights (`matmul(stacked:…)`) share their rows laid end to end.
        let stacked = ws.contains { $0.rows != layout.rows }
        let rows = stacked ? ws.reduce(0) { $0 + $1.rows } : layout.rows
        let chunksPerLoad = Kernel.chunksPerLoad(bits: layout.bits)
        let perInput = QuantizedActivations.byteCount(count: 1, layout: layout, chunksPerLoad: chunksPerLoad)
        let fit = max(integerPassBytes / perInput, 1)
        let perPass = n <= fit ? n : max(fit / 8 * 8, min(fit, 8))
        let scratchBytes = QuantizedActivations.byteCount(count: perPass, layout: layout, chunksPerLoad: chunksPerLoad)
        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 64) { scratch in
            var first = 0
            while first < n {
                let m = min(perPass, n - first)
                let inputs = QuantizedActivations(scratch: scratch.baseAddress!, count: m, layout: layout, chunksPerLoad: chunksPerLoad)
                let source = x + first * cols
                if m >= 4 {
                    pool.parallelFor(m) { t in inputs.quantize(source + t * cols, into: t) }
                } else {
                    for t in 0..<m { inputs.quantize(source + t * cols, into: t) }
                }
                let panels = path == .panels || (path == .automatic && m >= IntegerPath.automaticPanelInputs)
                let passInputs = first..<(first + m)
                let work = rows * layout.paddedCols * m * (stacked ? 1 : ws.count)
                let parts = RowParts(rows: rows, work: work, threads: pool.threadCount)
                let next = pool.schedule.record(ws[0].base, leads: leads(of: parts, in: addressings, stacked: stacked))
                parts.run(pool, thenReadAhead: next) { part in
                    if stacked {
                        var start = 0
                        for (addressing, y) in zip(addressings, ys) {
                            let height = addressing.layout.rows
                            let lower = max(part.lowerBound - start, 0), upper = min(part.upperBound - start, height)
                            if lower < upper { Kernel.rows(lower..<upper, addressing, inputs, y + first * height, yStride: height, panels: panels) }
                            start += height
                        }
                        return
                    }
                    for (addressing, y) in zip(addressings, ys) {
                        Kernel.rows(part, addressing, inputs, y + first * rows, yStride: rows, panels: panels)
                    }
                    finish?(part, passInputs)
                }
                first += m
            }
        }
    }

    /// Where each part but the first of `parts` starts reading, as `ProductSchedule` keeps it: up to
    /// `ProductSchedule.leadBytes` of the matrix from the part's first row, and no more than the part's rows hold
    /// (matrices of different heights lie end to end; matrices of one height are read first to last for each range,
    /// so the first matrix is read first).
    private static func leads(of parts: RowParts, in addressings: [QuantizedAddressing], stacked: Bool) -> ProductSchedule.Leads {
        parts.laterParts.map { part in
            let row = part.lowerBound
            var first = 0, matrix = 0
            while stacked && row >= first + addressings[matrix].layout.rows {
                first += addressings[matrix].layout.rows
                matrix += 1
            }
            let addressing = addressings[matrix]
            let start = addressing.row(row - first).codes
            let end = addressing.base + addressing.layout.byteCount
            let partBytes = part.count * (addressing.layout.byteCount / addressing.layout.rows)
            return UnsafeRawBufferPointer(start: start, count: min(ProductSchedule.leadBytes, partBytes, end - start))
        }
    }

    private static func quantizedProduct<Codes: CodeFormat>(
        _: Codes.Type, _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>, pool: ComputePool
    ) {
        precondition(!w.interleaved, "interleaved rows take int8 activations")
        let addressing = QuantizedAddressing(w)
        let layout = addressing.layout
        let perPass = inputsPerPass(count: n, layout: layout)
        let scratchBytes = PreparedInputs.floatCount(count: perPass, layout: layout) * 4
        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 64) { scratch in
            let base = scratch.baseAddress!.bindMemory(to: Float.self, capacity: scratchBytes / 4)
            var first = 0
            while first < n {
                let m = min(perPass, n - first)
                let inputs = PreparedInputs(scratch: base, count: m, layout: layout)
                for t in 0..<m { inputs.prepare(x + (first + t) * w.cols, into: t) }
                let output = y + first * w.rows
                RowParts(rows: w.rows, work: w.rows * layout.paddedCols * m, threads: pool.threadCount).run(pool) { part in
                    QuantizedDot<Codes>.rows(part, addressing, inputs, output, yStride: w.rows)
                }
                first += m
            }
        }
    }

    private static func floatProduct<Elements: FloatElements>(
        _: Elements.Type, _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>, pool: ComputePool
    ) {
        RowParts(rows: w.rows, work: w.rows * w.cols * n, threads: pool.threadCount).run(pool) { part in
            FloatDot<Elements>.rows(part, w, x, count: n, y, yStride: w.rows)
        }
    }
}
