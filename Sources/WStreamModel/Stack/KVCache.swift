/// One attention block's cached keys (or values) for one sequence: `[capacity][width]`, in float32 or float16.
///
/// Float16 halves the cache, which the memory budget counts in full for the whole context; float32 is
/// kept for `--bits 32` models so that they compute in float32 throughout, as the exactness tests need.
struct KVCache: @unchecked Sendable {
    let width: Int
    let isFloat16: Bool
    private let base: UnsafeMutableRawPointer

    /// Bytes of one element.
    static func elementSize(float16: Bool) -> Int { float16 ? 2 : 4 }

    /// Bytes a cache of `capacity` rows of `width` takes.
    static func byteCount(capacity: Int, width: Int, float16: Bool) -> Int { capacity * width * elementSize(float16: float16) }

    init(capacity: Int, width: Int, float16: Bool) {
        self.width = width
        isFloat16 = float16
        base = .allocate(byteCount: max(Self.byteCount(capacity: capacity, width: width, float16: float16), 1), alignment: 64)
    }

    func deallocate() { base.deallocate() }

    /// Writes `source[width]` as row `row`.
    func store(row: Int, from source: UnsafePointer<Float>) {
        if isFloat16 {
            let destination = base.assumingMemoryBound(to: Float16.self) + row * width
            for i in 0..<width { destination[i] = Float16(source[i]) }
        } else {
            (base.assumingMemoryBound(to: Float.self) + row * width).update(from: source, count: width)
        }
    }

    /// Σ q[i] · row[offset + i] over `count` elements.
    @inline(__always)
    func dot(_ q: UnsafePointer<Float>, row: Int, offset: Int, count: Int) -> Float {
        if isFloat16 {
            let r = base.assumingMemoryBound(to: Float16.self) + row * width + offset
            var acc = SIMD8<Float>()
            var i = 0
            while i + 8 <= count {
                let k = SIMD8<Float>(UnsafeRawPointer(r + i).loadUnaligned(as: SIMD8<Float16>.self))
                acc = acc.addingProduct(UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self), k)
                i += 8
            }
            var sum = acc.sum()
            while i < count {
                sum += q[i] * Float(r[i])
                i += 1
            }
            return sum
        }
        return VectorMath.dot(q, base.assumingMemoryBound(to: Float.self) + row * width + offset, count)
    }

    /// out[i] += scale · row[offset + i] over `count` elements.
    @inline(__always)
    func addScaled(into out: UnsafeMutablePointer<Float>, row: Int, offset: Int, scale: Float, count: Int) {
        if isFloat16 {
            let r = base.assumingMemoryBound(to: Float16.self) + row * width + offset
            for i in 0..<count { out[i] += scale * Float(r[i]) }
        } else {
            VectorMath.addScaled(out, base.assumingMemoryBound(to: Float.self) + row * width + offset, scale, count)
        }
    }
}
