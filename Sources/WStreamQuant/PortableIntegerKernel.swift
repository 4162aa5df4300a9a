/// The integer kernel in plain Swift SIMD, for every CPU (`make portable`, ARM64) and every group size.
///
/// One chunk (32 columns) at a time: codes widen to 16-bit lanes, multiply the 16-bit activations (at most
/// 63·127·2 for 4- and 6-bit pairs, 255·127 for 8-bit products, all within Int16) and widen to 32 bits; the 16
/// lanes are converted and scaled once per chunk. Four inputs share each decoded chunk. Products are
/// accumulated with a multiplication and an addition rather than `addingProduct`: without a target CPU
/// (`make portable`) a fused multiply-add is a library call per lane, 8 times slower here.
enum PortableIntegerKernel: IntegerKernel {
    static func chunksPerLoad(bits: Int) -> Int { 1 }

    static func supports(_ layout: QuantizedLayout) -> Bool { true }

    /// This family has no panel kernel: every count takes the row kernels.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int, panels _: Bool) {
        switch addressing.layout.bits {
        case 4: product(PortableFourBit.self, rows, addressing, inputs, y, yStride: yStride)
        case 6: product(PortableSixBit.self, rows, addressing, inputs, y, yStride: yStride)
        default: product(PortableEightBit.self, rows, addressing, inputs, y, yStride: yStride)
        }
    }

    @inline(__always)
    private static func product<Codes: PortableCodes>(
        _: Codes.Type, _ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
        _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        let layout = addressing.layout
        let fullTiles = inputs.count / 4 * 4
        var burst = SIMD16<UInt32>()
        addressing.blockRuns(rows) { first, count, firstRow in
            for r in 0..<count {
                let row = firstRow.advanced(by: r, addressing)
                if r % ParameterBurst.rows == 0 { burst |= ParameterBurst.read(row, rows: min(ParameterBurst.rows, count - r), addressing) }
                var t = 0
                while t < fullTiles {
                    let v = four(Codes.self, row, layout, inputs, first: t)
                    for k in 0..<4 { y[(t + k) * yStride + first + r] = v[k] }
                    t += 4
                }
                while t < inputs.count {
                    y[t * yStride + first + r] = one(Codes.self, row, layout, inputs, t)
                    t += 1
                }
            }
        }
        ParameterBurst.keep(burst)
    }

    @inline(__always)
    private static func one<Codes: PortableCodes>(
        _: Codes.Type, _ row: QuantizedRow, _ layout: QuantizedLayout, _ inputs: QuantizedActivations, _ t: Int
    ) -> Float {
        let chunksPerGroup = layout.groupSize / 32, lanes = inputs.lanesPerChunk
        let x = inputs.codes(t), d = inputs.laneScales(t)
        var acc = SIMD16<Float>()
        let chunks = layout.paddedCols / 32
        for c in 0..<chunks {
            let w = Codes.decode(row.codes, chunk: c, chunks: chunks)
            let s = row.scale(c / chunksPerGroup)
            acc += floats(Codes.product(w, x + 32 &* c)) * SIMD16(repeating: s * d[c &* lanes])
        }
        return horizontalSum(acc) + row.biasTerm(inputs.groupSums(t), groups: layout.groupsPerRow)
    }

    @inline(__always)
    private static func four<Codes: PortableCodes>(
        _: Codes.Type, _ row: QuantizedRow, _ layout: QuantizedLayout, _ inputs: QuantizedActivations, first t: Int
    ) -> SIMD4<Float> {
        let chunksPerGroup = layout.groupSize / 32, lanes = inputs.lanesPerChunk
        let x0 = inputs.codes(t), x1 = inputs.codes(t + 1), x2 = inputs.codes(t + 2), x3 = inputs.codes(t + 3)
        let d0 = inputs.laneScales(t), d1 = inputs.laneScales(t + 1), d2 = inputs.laneScales(t + 2), d3 = inputs.laneScales(t + 3)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        let chunks = layout.paddedCols / 32
        for c in 0..<chunks {
            let w = Codes.decode(row.codes, chunk: c, chunks: chunks)
            let s = row.scale(c / chunksPerGroup)
            let offset = 32 &* c, lane = c &* lanes
            a0 += floats(Codes.product(w, x0 + offset)) * SIMD16(repeating: s * d0[lane])
            a1 += floats(Codes.product(w, x1 + offset)) * SIMD16(repeating: s * d1[lane])
            a2 += floats(Codes.product(w, x2 + offset)) * SIMD16(repeating: s * d2[lane])
            a3 += floats(Codes.product(w, x3 + offset)) * SIMD16(repeating: s * d3[lane])
        }
        let groups = layout.groupsPerRow
        return SIMD4(
            horizontalSum(a0) + row.biasTerm(inputs.groupSums(t), groups: groups),
            horizontalSum(a1) + row.biasTerm(inputs.groupSums(t + 1), groups: groups),
            horizontalSum(a2) + row.biasTerm(inputs.groupSums(t + 2), groups: groups),
            horizontalSum(a3) + row.biasTerm(inputs.groupSums(t + 3), groups: groups))
    }
}

/// How one chunk's codes widen and multiply 32 int8 activations into 16 lanes of 32-bit sums.
private protocol PortableCodes {
    /// Chunk `chunk` of the row of `chunks` chunks whose codes start at `row`.
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks: Int) -> (SIMD16<Int16>, SIMD16<Int16>)
    static func product(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ x: UnsafePointer<Int8>) -> SIMD16<Int32>
}

/// 16 bytes: low nibbles (even columns) and high nibbles (odd columns), against the chunk's 16 even then
/// 16 odd activations.
private enum PortableFourBit: PortableCodes {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks _: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let bytes = row.loadUnaligned(fromByteOffset: 16 &* chunk, as: SIMD16<UInt8>.self)
        return (int16s(bytes & 0x0F), int16s(bytes &>> 4))
    }

    @inline(__always)
    static func product(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ x: UnsafePointer<Int8>) -> SIMD16<Int32> {
        let even = int16s(UnsafeRawPointer(x).loadUnaligned(as: SIMD16<Int8>.self))
        let odd = int16s(UnsafeRawPointer(x + 16).loadUnaligned(as: SIMD16<Int8>.self))
        return int32s(w.0 &* even &+ w.1 &* odd)
    }
}

/// `PortableFourBit`'s nibbles with each code's top two bits from its span's plane (`SixBitCodes`).
private enum PortableSixBit: PortableCodes {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let nibbles = row.loadUnaligned(fromByteOffset: SixBitCodes.nibbleOffset(chunk: chunk), as: SIMD16<UInt8>.self)
        let top = row.loadUnaligned(fromByteOffset: SixBitCodes.highOffset(chunk: chunk, chunks: chunks) &+ 16 &* (chunk & 1),
                                    as: SIMD16<UInt8>.self) &>> UInt8(truncatingIfNeeded: chunk & 2)
        return (int16s(nibbles & 0x0F | (top & 0x03) &<< 4), int16s(nibbles &>> 4 | (top &>> 4 & 0x03) &<< 4))
    }

    @inline(__always)
    static func product(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ x: UnsafePointer<Int8>) -> SIMD16<Int32> {
        PortableFourBit.product(w, x)
    }
}

/// 32 bytes, one code per column, against 32 activations in column order.
private enum PortableEightBit: PortableCodes {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks _: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let p = row + 32 &* chunk
        return (int16s(p.loadUnaligned(as: SIMD16<UInt8>.self)), int16s(p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)))
    }

    @inline(__always)
    static func product(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ x: UnsafePointer<Int8>) -> SIMD16<Int32> {
        let low = int16s(UnsafeRawPointer(x).loadUnaligned(as: SIMD16<Int8>.self))
        let high = int16s(UnsafeRawPointer(x + 16).loadUnaligned(as: SIMD16<Int8>.self))
        return int32s(w.0 &* low) &+ int32s(w.1 &* high)
    }
}
