/// Everything that can go wrong reading or writing a `.wst` file.
///
/// Each case carries what a person needs to find the problem (file, tensor, frame, offset,
/// expected vs found); `description` is written to be read in a terminal.
public enum FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on `path` failed; `reason` is the errno text.
    case io(path: String, operation: String, reason: String)
    /// The file is shorter than the fixed header.
    case tooShort(file: String, size: Int, needed: Int)
    /// The first eight bytes are not `WSTREAM\0`.
    case badMagic(file: String, found: [UInt8])
    case unsupportedVersion(file: String, found: UInt32, supported: UInt32)
    /// The byte-order mark does not read as 0x01020304 little-endian.
    case wrongByteOrder(file: String, found: UInt32)
    case headerChecksumMismatch(file: String, expected: UInt64, found: UInt64)
    /// The header's alignment is not a power of two in the accepted range.
    case badAlignment(file: String, alignment: UInt64)
    /// The header records a different file length: the file was truncated or appended to.
    case fileLengthMismatch(file: String, expected: UInt64, found: UInt64)
    case metadataOutOfBounds(file: String, offset: UInt64, length: UInt64, fileSize: UInt64)
    case metadataChecksumMismatch(file: String, offset: UInt64, expected: UInt64, found: UInt64)
    /// The metadata bytes are not valid JSON of `ContainerMetadata`.
    case metadataUndecodable(file: String, reason: String)
    /// A region entry is inconsistent (unaligned, overlapping, outside the data area).
    case invalidRegion(file: String, region: String, reason: String)
    /// A tensor entry is inconsistent (shape, storage, blocks, frames, bounds).
    case invalidTensor(file: String, tensor: String, reason: String)
    /// A frame's stored bytes do not hash to the checksum recorded in the metadata.
    case checksumMismatch(file: String, tensor: String, frameIndex: Int, offset: UInt64, expected: UInt64, found: UInt64)
    /// zstd rejected a frame, or it decoded to a different length than recorded.
    case decodeFailed(file: String, tensor: String, frameIndex: Int, offset: UInt64, reason: String)
    /// The writer was called out of order or with inconsistent data.
    case writerMisuse(file: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, operation, reason):
            return "\(path): \(operation) failed: \(reason)"
        case let .tooShort(file, size, needed):
            return "\(file): not a wstream container: \(size) bytes, a header alone takes \(needed)"
        case let .badMagic(file, found):
            let hint = found.starts(with: Array("GGUF".utf8)) ? "; it is a GGUF file: convert it with `wstream pack`" : ""
            return "\(file): not a wstream container (starts with \(found.map { hex2($0) }.joined(separator: " ")), expected 'WSTREAM\\0')\(hint)"
        case let .unsupportedVersion(file, found, supported):
            return "\(file): format version \(found) is not supported (this build reads version \(supported))"
        case let .wrongByteOrder(file, found):
            return "\(file): byte-order mark reads \(hex(UInt64(found), digits: 8)), expected 0x01020304 (little-endian)"
        case let .headerChecksumMismatch(file, expected, found):
            return "\(file): the header is damaged (checksum \(hex(found)) expected \(hex(expected)))"
        case let .badAlignment(file, alignment):
            return "\(file): the header's alignment \(alignment) is not a power of two between 64 and 1 GiB"
        case let .fileLengthMismatch(file, expected, found):
            let what = found < expected ? "truncated" : "longer than written"
            return "\(file): the file is \(what): \(found) bytes, the header records \(expected)"
        case let .metadataOutOfBounds(file, offset, length, fileSize):
            return "\(file): metadata at offset \(offset) length \(length) lies outside the file (\(fileSize) bytes)"
        case let .metadataChecksumMismatch(file, offset, expected, found):
            return "\(file): the metadata is damaged (checksum \(hex(found)) expected \(hex(expected))) at offset \(offset)"
        case let .metadataUndecodable(file, reason):
            return "\(file): the metadata cannot be read: \(reason)"
        case let .invalidRegion(file, region, reason):
            return "\(file): region \(region) is invalid: \(reason)"
        case let .invalidTensor(file, tensor, reason):
            return "\(file): tensor \(tensor) is invalid: \(reason)"
        case let .checksumMismatch(file, tensor, frameIndex, offset, expected, found):
            return "\(file): frame \(frameIndex) of tensor \(tensor) is damaged (checksum \(hex(found)) expected \(hex(expected))) at offset \(offset)"
        case let .decodeFailed(file, tensor, frameIndex, offset, reason):
            return "\(file): frame \(frameIndex) of tensor \(tensor) at offset \(offset) cannot be decoded: \(reason)"
        case let .writerMisuse(file, reason):
            return "\(file): cannot write: \(reason)"
        }
    }
}

private func hex(_ value: UInt64, digits width: Int = 16) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits
}

private func hex2(_ byte: UInt8) -> String {
    byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
}
