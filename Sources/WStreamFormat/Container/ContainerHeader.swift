/// The fixed 64-byte header at offset 0 of a `.wst` file (layout in docs/FORMAT.md).
///
/// All integers little-endian:
/// `magic[8] | version u32 | byteOrderMark u32 | alignment u64 | metadataOffset u64 |
///  metadataLength u64 | metadataChecksum u64 | fileLength u64 | headerChecksum u64`,
/// where `headerChecksum` is the XXH64 of bytes 0..<56.
public struct ContainerHeader: Sendable, Equatable {
    public static let size = 64
    public static let magic: [UInt8] = Array("WSTREAM".utf8) + [0]
    public static let currentVersion: UInt32 = 1
    /// Written little-endian it reads as bytes 04 03 02 01; a reader of the other byte order sees 0x04030201.
    public static let byteOrderMark: UInt32 = 0x0102_0304
    /// Alignments a reader accepts: powers of two in this range.
    public static let alignmentRange: ClosedRange<UInt64> = 64...(1 << 30)

    public var version: UInt32
    public var alignment: UInt64
    public var metadataOffset: UInt64
    public var metadataLength: UInt64
    /// XXH64 (seed 0) of the metadata bytes.
    public var metadataChecksum: UInt64
    /// Length of the whole file in bytes; a mismatch means truncation.
    public var fileLength: UInt64

    public init(version: UInt32 = ContainerHeader.currentVersion, alignment: UInt64, metadataOffset: UInt64, metadataLength: UInt64, metadataChecksum: UInt64, fileLength: UInt64) {
        self.version = version
        self.alignment = alignment
        self.metadataOffset = metadataOffset
        self.metadataLength = metadataLength
        self.metadataChecksum = metadataChecksum
        self.fileLength = fileLength
    }

    /// The 64 bytes of this header, its checksum included.
    public var bytes: [UInt8] {
        var out = Self.magic
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        append(version)
        append(Self.byteOrderMark)
        append(alignment)
        append(metadataOffset)
        append(metadataLength)
        append(metadataChecksum)
        append(fileLength)
        append(XXH64.hash(out))
        return out
    }

    /// Parses and checks a header: magic, version, byte order, checksum, alignment.
    /// - Parameters:
    ///   - bytes: at least `ContainerHeader.size` bytes from offset 0 of the file.
    ///   - file: the path, for error messages.
    /// - Throws: `FormatError` saying which check failed.
    public init(parsing bytes: UnsafeRawBufferPointer, file: String) throws(FormatError) {
        guard bytes.count >= Self.size else { throw .tooShort(file: file, size: bytes.count, needed: Self.size) }
        func read<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        let magic = Array(bytes[0..<8])
        guard magic == Self.magic else { throw .badMagic(file: file, found: magic) }
        let checksum = read(56, as: UInt64.self)
        let computed = XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<56]))
        guard checksum == computed else { throw .headerChecksumMismatch(file: file, expected: checksum, found: computed) }
        version = read(8, as: UInt32.self)
        guard version == Self.currentVersion else {
            throw .unsupportedVersion(file: file, found: version, supported: Self.currentVersion)
        }
        let mark = read(12, as: UInt32.self)
        guard mark == Self.byteOrderMark else { throw .wrongByteOrder(file: file, found: mark) }
        alignment = read(16, as: UInt64.self)
        guard Self.alignmentRange.contains(alignment), alignment.nonzeroBitCount == 1 else {
            throw .badAlignment(file: file, alignment: alignment)
        }
        metadataOffset = read(24, as: UInt64.self)
        metadataLength = read(32, as: UInt64.self)
        metadataChecksum = read(40, as: UInt64.self)
        fileLength = read(48, as: UInt64.self)
    }
}
