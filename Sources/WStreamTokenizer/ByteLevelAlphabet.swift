/// GPT-2's `bytes_to_unicode`: every byte is spelled as one printable character in ByteLevel vocabularies.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes take the
/// characters from U+0100 upwards in byte order (so space, 0x20, is `Ġ` U+0120).
enum ByteLevelAlphabet {
    /// The character for each byte.
    static let characters: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte) {
                result[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                result[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return result
    }()

    /// The byte a character stands for, or nil for characters outside the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 {
            let byte = UInt8(value)
            return characters[Int(byte)] == scalar ? byte : nil
        }
        return inverseHigh[value]
    }

    private static let inverseHigh: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (byte, scalar) in characters.enumerated() where scalar.value >= 256 { map[scalar.value] = UInt8(byte) }
        return map
    }()
}
