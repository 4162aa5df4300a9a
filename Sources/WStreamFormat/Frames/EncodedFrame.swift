/// One frame after encoding, ready to be written.
public struct EncodedFrame: Sendable {
    /// The bytes that go into the file.
    public var stored: [UInt8]
    /// Bytes of the frame once decoded (and un-shuffled).
    public var decodedLength: Int
    /// XXH64 (seed 0) of `stored`.
    public var checksum: UInt64
    public var encoding: FrameEncoding
    /// Byte-shuffle element size applied before compression; 1 when none.
    public var shuffle: Int

    public init(stored: [UInt8], decodedLength: Int, checksum: UInt64, encoding: FrameEncoding, shuffle: Int) {
        self.stored = stored
        self.decodedLength = decodedLength
        self.checksum = checksum
        self.encoding = encoding
        self.shuffle = shuffle
    }
}
