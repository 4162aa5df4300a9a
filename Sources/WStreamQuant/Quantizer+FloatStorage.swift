/// Encoders for tensors the container stores unquantised (norms, small vectors, `--bits 16|32`).
extension Quantizer {
    /// Encodes row-major floats as little-endian fp16 bytes (round to nearest even).
    /// - Parameters:
    ///   - values: `rows · cols` floats, row-major.
    ///   - cols: the row length, used to name the row and column of a bad value.
    /// - Throws: `QuantError.nonFinite` for an inf/NaN, `QuantError.outOfFloat16Range` for a value whose
    ///   magnitude rounds beyond fp16's largest finite value.
    public static func encodeFloat16(rows values: UnsafeBufferPointer<Float>, cols: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: values.count * 2)
        try result.withUnsafeMutableBytes { bytes in
            for (i, v) in values.enumerated() {
                guard v.isFinite else { throw QuantError.nonFinite(row: i / max(cols, 1), column: i % max(cols, 1), value: v) }
                let h = Float16(v)
                guard h.isFinite else { throw QuantError.outOfFloat16Range(row: i / max(cols, 1), column: i % max(cols, 1), value: v) }
                bytes.storeBytes(of: h.bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        }
        return result
    }

    /// Encodes row-major floats as little-endian float32 bytes, bit for bit.
    /// - Parameters:
    ///   - values: `rows · cols` floats, row-major.
    ///   - cols: the row length, used to name the row and column of a bad value.
    /// - Throws: `QuantError.nonFinite` for an inf/NaN (a weight that would poison every result).
    public static func encodeFloat32(rows values: UnsafeBufferPointer<Float>, cols: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: values.count * 4)
        try result.withUnsafeMutableBytes { bytes in
            for (i, v) in values.enumerated() {
                guard v.isFinite else { throw QuantError.nonFinite(row: i / max(cols, 1), column: i % max(cols, 1), value: v) }
                bytes.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        return result
    }
}
