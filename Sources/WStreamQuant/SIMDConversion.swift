/// Per-lane conversions written so that, with `-target-cpu native`, they compile to single vector
/// instructions (`vpmovzxbd` + `vcvtdq2ps`, `vcvtph2ps`). The stdlib's `SIMD16<Float>(SIMD16<UInt8>)`
/// is an out-of-line call with spills, about 10× slower (see MEASURED.md).
@inline(__always)
func floats(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    var result = SIMD16<Float>()
    for i in 0..<16 { result[i] = Float(v[i]) }
    return result
}

@inline(__always)
func int32s(_ v: SIMD8<UInt8>) -> SIMD8<Int32> {
    var result = SIMD8<Int32>()
    for i in 0..<8 { result[i] = Int32(v[i]) }
    return result
}

@inline(__always)
func int16s(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var result = SIMD16<Int16>()
    for i in 0..<16 { result[i] = Int16(v[i]) }
    return result
}

@inline(__always)
func int16s(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    var result = SIMD16<Int16>()
    for i in 0..<16 { result[i] = Int16(v[i]) }
    return result
}

@inline(__always)
func int32s(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    var result = SIMD16<Int32>()
    for i in 0..<16 { result[i] = Int32(v[i]) }
    return result
}

@inline(__always)
func floats(_ v: SIMD16<Int32>) -> SIMD16<Float> {
    var result = SIMD16<Float>()
    for i in 0..<16 { result[i] = Float(v[i]) }
    return result
}

@inline(__always)
func floats(_ v: SIMD16<Float16>) -> SIMD16<Float> {
    var result = SIMD16<Float>()
    for i in 0..<16 { result[i] = Float(v[i]) }
    return result
}

/// Loads 16 floats from `p` (no alignment needed).
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Loads one fp16 value at `byteOffset` as a float (no alignment needed).
@inline(__always)
func loadFloat16(_ p: UnsafeRawPointer, _ index: Int) -> Float {
    Float(p.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
}

/// The sum of the 16 lanes as a tree of vector adds: `SIMD16.sum()` adds the lanes one by one
/// (about 30 scalar instructions), which shows in the per-row cost of short rows.
@inline(__always)
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let eight = v.lowHalf + v.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
