/// Input vectors rearranged for the quantised kernels, in scratch memory the caller provides.
///
/// Each input is zero-padded to `paddedCols`, so padding codes multiply zeros and the kernels never read
/// past `cols`. For 4- and 6-bit codes each 16 columns are stored as their 8 even columns then their 8 odd
/// ones, matching the low and high nibbles of their 8 code bytes (see `FourBitCodes`), so the kernel needs no
/// shuffle.
/// The per-group sums of each input feed the folded bias term `Σ_g bias_g · Σ x_g`.
struct PreparedInputs {
    let count: Int
    let layout: QuantizedLayout
    /// `[count][paddedCols]`.
    let values: UnsafeMutablePointer<Float>
    /// `[count][groupsPerRow]`.
    let groupSums: UnsafeMutablePointer<Float>

    /// Floats of scratch that `count` prepared inputs need.
    static func floatCount(count: Int, layout: QuantizedLayout) -> Int {
        count * (layout.paddedCols + layout.groupsPerRow)
    }

    init(scratch: UnsafeMutablePointer<Float>, count: Int, layout: QuantizedLayout) {
        self.count = count
        self.layout = layout
        values = scratch
        groupSums = scratch + count * layout.paddedCols
    }

    @inline(__always) func values(_ input: Int) -> UnsafePointer<Float> { UnsafePointer(values + input * layout.paddedCols) }
    @inline(__always) func sums(_ input: Int) -> UnsafePointer<Float> { UnsafePointer(groupSums + input * layout.groupsPerRow) }

    /// Copies `x[cols]` into slot `input` and computes its group sums.
    func prepare(_ x: UnsafePointer<Float>, into input: Int) {
        let cols = layout.cols
        let destination = values + input * layout.paddedCols
        if layout.bits != 8 {
            // Per 32-column chunk: for each half of 16 columns, its 8 even columns then its 8 odd ones.
            for chunk in stride(from: 0, to: layout.paddedCols, by: 32) {
                for half in stride(from: chunk, to: chunk + 32, by: 16) {
                    for i in 0..<8 {
                        let even = half + 2 * i, odd = even + 1
                        destination[half + i] = even < cols ? x[even] : 0
                        destination[half + 8 + i] = odd < cols ? x[odd] : 0
                    }
                }
            }
        } else {
            destination.update(from: x, count: cols)
            (destination + cols).update(repeating: 0, count: layout.paddedCols - cols)
        }
        let sums = groupSums + input * layout.groupsPerRow
        for g in 0..<layout.groupsPerRow {
            var sum = SIMD16<Float>()
            var p = UnsafePointer(destination + g * layout.groupSize)
            for _ in 0..<(layout.groupSize / 16) {
                sum += load16(p)
                p += 16
            }
            sums[g] = horizontalSum(sum)
        }
    }
}
