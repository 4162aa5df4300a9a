/// Products of q4/q8 rows with int8 activations (`QuantizedActivations`) in integer arithmetic:
/// `y = Σ_g s_g · Σ_chunks d · (q_w · q_x) + Σ_g b_g · Σ x̂_g`.
///
/// Each family keeps the integer products of a vector load lane by lane, converts them to float once per
/// load, multiplies by the lanes' `s · d` and accumulates in float; the lanes are summed once per row
/// (`VNNIPanelKernel`, for prefill, keeps one row per lane instead). `ReferenceKernels.integerMatmul` is
/// the scalar definition they are tested against.
protocol IntegerKernel {
    /// Chunks of 32 columns one vector load of `bits`-bit codes covers (the span of the 4-bit
    /// activation order).
    static func chunksPerLoad(bits: Int) -> Int
    /// Whether the kernel handles the layout's group size; the portable kernel handles every one.
    static func supports(_ layout: QuantizedLayout) -> Bool
    /// Rows `rows` times every input into `y[t · yStride + r]`, with the panel kernel when `panels` and the
    /// family has one (see `IntegerPath`).
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int, panels: Bool)
}
