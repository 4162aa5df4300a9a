/// Inputs quantised to int8 for the integer kernels, in scratch memory the caller provides.
///
/// Each input is cut into chunks of 32 columns, zero-padded past `cols` up to a whole number of the
/// kernel's vector loads. A chunk stores 32 codes `q` and one scale `d` with `x ≈ d · q` (like ggml's Q8):
/// `d = max|x| / 127` and `q = x · (127 / max|x|)` rounded to nearest (ties to even), within ±127,
/// so −128 never occurs (AVX2's sign trick for 8-bit weights relies on that). A chunk whose largest
/// magnitude is below 2⁻¹⁰⁰ is stored as zeros with `d = 0`; one holding an infinity or a NaN as zeros
/// with `d = NaN`, so that every product it enters is NaN rather than a finite wrong number.
///
/// Layout per input:
/// - `codes`: for 8-bit weights in column order; for 4- and 6-bit weights (whose low 4 bits are nibbles,
///   see `SixBitCodes`), in each span of `chunksPerLoad` chunks (one vector load of nibble bytes) the even
///   columns of each chunk, then the odd ones, matching the low and high nibbles of the code bytes, so the
///   kernels split nibbles and never shuffle.
/// - `laneScales`: each chunk's `d` repeated once per 32-bit lane its products land in (4 for 4- and 6-bit
///   codes, 8 for 8-bit), so a kernel loads the scales of a vector of products with one load.
/// - `groupSums`: `Σ d·q` over each weight group, for the folded bias `Σ_g b_g · Σ x̂_g`; zero from
///   `groupsPerRow` up to a multiple of 16.
///
/// With these, `Σ_c ŵ_c · x̂_c = Σ_g s_g · Σ_chunks d · (q_w · q_x) + Σ_g b_g · Σ x̂_g`: the products of codes
/// are exact integers and only the scales are floats.
struct QuantizedActivations {
    let count: Int
    let layout: QuantizedLayout
    let chunksPerLoad: Int
    /// Chunks per input, padded to whole loads.
    let chunkCount: Int
    /// Lanes of 32 bits one chunk's products fill: 4 for nibbles (16 bytes of them), 8 for 8-bit codes (32 bytes).
    let lanesPerChunk: Int
    /// `groupsPerRow` rounded up to 16.
    let paddedGroups: Int
    private let codeBase: UnsafeMutablePointer<Int8>
    private let laneScaleBase: UnsafeMutablePointer<Float>
    private let groupSumBase: UnsafeMutablePointer<Float>

    /// Scratch bytes `count` inputs need (64-byte aligned sections).
    static func byteCount(count: Int, layout: QuantizedLayout, chunksPerLoad: Int) -> Int {
        let sections = Sections(count: count, layout: layout, chunksPerLoad: chunksPerLoad)
        return sections.total
    }

    /// - Parameter scratch: at least `byteCount(…)` bytes, 64-byte aligned.
    init(scratch: UnsafeMutableRawPointer, count: Int, layout: QuantizedLayout, chunksPerLoad: Int) {
        let sections = Sections(count: count, layout: layout, chunksPerLoad: chunksPerLoad)
        self.count = count
        self.layout = layout
        self.chunksPerLoad = chunksPerLoad
        chunkCount = sections.chunkCount
        lanesPerChunk = sections.lanesPerChunk
        paddedGroups = sections.paddedGroups
        laneScaleBase = scratch.bindMemory(to: Float.self, capacity: sections.laneScaleFloats)
        groupSumBase = (scratch + sections.groupSumOffset).bindMemory(to: Float.self, capacity: sections.groupSumFloats)
        codeBase = (scratch + sections.codeOffset).bindMemory(to: Int8.self, capacity: sections.codeBytes)
    }

    @inline(__always) func codes(_ input: Int) -> UnsafePointer<Int8> { UnsafePointer(codeBase + input * chunkCount * 32) }
    @inline(__always) func laneScales(_ input: Int) -> UnsafePointer<Float> {
        UnsafePointer(laneScaleBase + input * chunkCount * lanesPerChunk)
    }
    @inline(__always) func groupSums(_ input: Int) -> UnsafePointer<Float> { UnsafePointer(groupSumBase + input * paddedGroups) }

    /// Quantises `x[cols]` into slot `input`; nothing beyond `cols` is read.
    func quantize(_ x: UnsafePointer<Float>, into input: Int) {
        let cols = layout.cols
        let codes = codeBase + input * chunkCount * 32
        let laneScales = laneScaleBase + input * chunkCount * lanesPerChunk
        let sums = groupSumBase + input * paddedGroups
        sums.initialize(repeating: 0, count: paddedGroups)
        let chunksPerGroup = layout.groupSize / 32, groupChunks = layout.groupsPerRow * chunksPerGroup
        let nibbleOrder = layout.bits != 8
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { padded in
            let padded = padded.baseAddress!
            for c in 0..<chunkCount {
                let start = c * 32
                var source = x + start
                if start + 32 > cols {
                    padded.initialize(repeating: 0, count: 32)
                    if start < cols { padded.update(from: x + start, count: cols - start) }
                    source = UnsafePointer(padded)
                }
                let (d, sum): (Float, Int32)
                if nibbleOrder {
                    // The chunk's even columns at its place among the span's evens, its odd ones among the odds.
                    let evens = codes + (c / chunksPerLoad) * chunksPerLoad * 32 + 16 * (c % chunksPerLoad)
                    (d, sum) = Self.quantizeChunk(source, evens: evens, odds: evens + 16 * chunksPerLoad)
                } else {
                    (d, sum) = Self.quantizeChunk(source, evens: codes + start, odds: nil)
                }
                (laneScales + c * lanesPerChunk).initialize(repeating: d, count: lanesPerChunk)
                if c < groupChunks { sums[c / chunksPerGroup] += d * Float(sum) }
            }
        }
    }

    /// Quantises 32 floats as the type's documentation defines it; returns the scale and the sum of the codes.
    ///
    /// With `odds`, the even columns' codes go to `evens[0 ..< 16]` and the odd ones' to `odds[0 ..< 16]` (the
    /// 4-bit order); without, all 32 go to `evens[0 ..< 32]` in column order. Decode quantises every product's
    /// input on the calling thread while the pool's other threads wait, so this is written for 16-lane vectors:
    /// a scalar loop here (a float-to-integer conversion with range checks per code) took 5 % of a decode step.
    @inline(__always)
    static func quantizeChunk(_ x: UnsafePointer<Float>, evens: UnsafeMutablePointer<Int8>, odds: UnsafeMutablePointer<Int8>?)
        -> (scale: Float, sum: Int32) {
        let source = UnsafeRawPointer(x)
        let low = source.loadUnaligned(as: SIMD16<Float>.self)
        let high = source.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        // On the bit patterns, |x| orders like an unsigned integer and infinities and NaNs come out on top,
        // where a float maximum could drop a NaN.
        let magnitudes = pointwiseMax(unsafeBitCast(low, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF,
                                      unsafeBitCast(high, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF)
        let largest = magnitudes.max()
        let amax = Float(bitPattern: largest)
        guard largest < 0x7F80_0000, amax >= 0x1p-100 else {
            evens.initialize(repeating: 0, count: odds == nil ? 32 : 16)
            odds?.initialize(repeating: 0, count: 16)
            return (largest >= 0x7F80_0000 ? .nan : 0, 0)
        }
        // |x| ≤ max|x| and two roundings of 2⁻²⁴ keep |x · 127/max|x|| below 127.5: no clamp is needed. Adding
        // 1.5 · 2²³ rounds such a value to the nearest integer, ties to even, and leaves it in the low bits of
        // the sum's pattern: the same codes as `(x · inverse).rounded(.toNearestOrEven)`, without a conversion.
        let inverse = SIMD16<Float>(repeating: 127 / amax)
        let shift = SIMD16<Float>(repeating: 0x1.8p23), shiftBits = SIMD16<Int32>(repeating: 0x4B40_0000)
        let lowCodes = unsafeBitCast(low * inverse + shift, to: SIMD16<Int32>.self) &- shiftBits
        let highCodes = unsafeBitCast(high * inverse + shift, to: SIMD16<Int32>.self) &- shiftBits
        let codes = SIMD32<Int8>(lowHalf: SIMD16<Int8>(truncatingIfNeeded: lowCodes), highHalf: SIMD16<Int8>(truncatingIfNeeded: highCodes))
        let target = UnsafeMutableRawPointer(evens)
        if let odds {
            target.storeBytes(of: codes.evenHalf, as: SIMD16<Int8>.self)
            UnsafeMutableRawPointer(odds).storeBytes(of: codes.oddHalf, as: SIMD16<Int8>.self)
        } else {
            target.storeBytes(of: codes, as: SIMD32<Int8>.self)
        }
        return (amax / 127, (lowCodes &+ highCodes).wrappedSum())
    }

    /// Offsets of the three sections in the scratch.
    private struct Sections {
        let chunkCount: Int
        let lanesPerChunk: Int
        let paddedGroups: Int
        let laneScaleFloats: Int
        let groupSumFloats: Int
        let codeBytes: Int
        let groupSumOffset: Int
        let codeOffset: Int
        let total: Int

        init(count: Int, layout: QuantizedLayout, chunksPerLoad: Int) {
            let chunks = layout.paddedCols / 32
            chunkCount = (chunks + chunksPerLoad - 1) / chunksPerLoad * chunksPerLoad
            lanesPerChunk = layout.bits == 8 ? 8 : 4
            paddedGroups = (layout.groupsPerRow + 15) / 16 * 16
            laneScaleFloats = count * chunkCount * lanesPerChunk
            groupSumFloats = count * paddedGroups
            codeBytes = count * chunkCount * 32
            groupSumOffset = Self.aligned(laneScaleFloats * 4)
            codeOffset = groupSumOffset + Self.aligned(groupSumFloats * 4)
            total = codeOffset + Self.aligned(codeBytes)
        }

        static func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
    }
}
