import CZstd

/// Encodes frames: optional byte shuffle, zstd at a level, raw when zstd saves too little. Thread-safe.
public enum FrameEncoder {
    /// Encodes one frame.
    ///
    /// A frame that zstd shrinks by less than `minimumSaving` is stored raw and unshuffled
    /// (`encoding == .raw`, `shuffle == 1`), so decoding it is a plain copy.
    /// - Parameters:
    ///   - bytes: the decoded bytes of the frame.
    ///   - shuffleElementSize: byte-shuffle with this element size before compressing (1 = none).
    ///   - level: zstd level.
    ///   - minimumSaving: store raw when zstd saves less than this fraction (0.03).
    /// - Returns: the stored bytes with their checksum and how to decode them.
    public static func encode(_ bytes: UnsafeRawBufferPointer, shuffleElementSize: Int, level: Int, minimumSaving: Double = 0.03) -> EncodedFrame {
        precondition(shuffleElementSize >= 1, "shuffle element size must be at least 1")
        if let compressed = compress(bytes, shuffleElementSize: shuffleElementSize, level: level),
           Double(compressed.count) <= Double(bytes.count) * (1 - minimumSaving) {
            return EncodedFrame(
                stored: compressed, decodedLength: bytes.count, checksum: XXH64.hash(compressed),
                encoding: .zstd, shuffle: shuffleElementSize)
        }
        return raw(bytes)
    }

    /// Stores `bytes` as they are (`encoding == .raw`, `shuffle == 1`): a reader can use them where they lie.
    public static func raw(_ bytes: UnsafeRawBufferPointer) -> EncodedFrame {
        let raw = Array(bytes)
        return EncodedFrame(stored: raw, decodedLength: bytes.count, checksum: XXH64.hash(raw), encoding: .raw, shuffle: 1)
    }

    /// The zstd frame of `bytes` (shuffled first when asked), or nil when zstd fails or the input is empty.
    private static func compress(_ bytes: UnsafeRawBufferPointer, shuffleElementSize: Int, level: Int) -> [UInt8]? {
        guard bytes.count > 0 else { return nil }
        var shuffled: [UInt8] = []
        if shuffleElementSize > 1 {
            shuffled = [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
                ByteShuffle.shuffle(bytes, into: UnsafeMutableRawBufferPointer(buffer), elementSize: shuffleElementSize)
                initialized = bytes.count
            }
        }
        // A context per call keeps the encoder stateless and so safe to call from many threads.
        guard let context = ZSTD_createCCtx() else { return nil }
        defer { ZSTD_freeCCtx(context) }
        let bound = ZSTD_compressBound(bytes.count)
        let clampedLevel = Int32(clamping: min(max(level, Int(ZSTD_minCLevel())), Int(ZSTD_maxCLevel())))
        var written = 0
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            let target = buffer.baseAddress
            func compress(_ input: UnsafeRawBufferPointer) -> Int {
                ZSTD_compressCCtx(context, target, bound, input.baseAddress, input.count, clampedLevel)
            }
            written = shuffleElementSize > 1 ? shuffled.withUnsafeBytes(compress) : compress(bytes)
            initialized = ZSTD_isError(written) != 0 ? 0 : written
        }
        return ZSTD_isError(written) != 0 ? nil : output
    }
}
