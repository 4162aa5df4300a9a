/// Small float32 vector routines shared by the layers (the matrix products live in `WStreamQuant`).
///
/// Written with explicit SIMD lanes: LLVM will not re-associate a float reduction on its own.
enum VectorMath {
    /// Σ a[i]·b[i] over `count` elements.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self),
                           UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self))
            i += 8
        }
        var sum = acc.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// y[i] += x[i].
    static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Whether none of `x[0 ..< count]` is infinite or NaN.
    ///
    /// On the bit patterns, |x| of a finite float is below that of infinity and NaNs are above it: sixteen lanes at a
    /// time, for the logits of every token (a closure per element took 50 µs of a 50k vocabulary).
    static func allFinite(_ x: UnsafePointer<Float>, _ count: Int) -> Bool {
        let infinity = Float.infinity.bitPattern
        var largest = SIMD16<UInt32>()
        var i = 0
        while i + 16 <= count {
            let magnitudes = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<UInt32>.self) & 0x7FFF_FFFF
            largest.replace(with: magnitudes, where: magnitudes .> largest)  // `pointwiseMax` would be a call per block
            i += 16
        }
        guard largest.max() < infinity else { return false }
        while i < count {
            guard x[i].isFinite else { return false }
            i += 1
        }
        return true
    }

    /// The index of the first largest of `x[0 ..< count]` (`count` ≥ 1): the maximum over sixteen lanes, then the first
    /// block of sixteen that holds it, then its place there. NaNs never win (all NaN gives `count − 1`).
    static func firstMaximum(_ x: UnsafePointer<Float>, _ count: Int) -> Int {
        func block(_ i: Int) -> SIMD16<Float> { UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) }
        // A compare and a blend per block: `pointwiseMax` calls `Float.maximum` per lane, whose NaN rules keep it scalar.
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = block(i)
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        var maximum = -Float.infinity
        for lane in 0..<16 where lanes[lane] > maximum { maximum = lanes[lane] }
        while i < count {
            if x[i] > maximum { maximum = x[i] }
            i += 1
        }
        let target = SIMD16<Float>(repeating: maximum)
        var first = 0
        while first + 16 <= count && !any(block(first) .== target) { first += 16 }
        while first < count - 1 && x[first] != maximum { first += 1 }
        return first
    }
}

extension SIMD8 where Scalar == Float {
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        self = self.addingProduct(a, b)
    }
}
