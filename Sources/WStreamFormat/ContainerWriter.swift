// SKELETON: signatures the rest of the package codes against; the Format work fills in the bodies.

/// One frame after encoding, ready to be written.
public struct EncodedFrame: Sendable {
    public var stored: [UInt8]
    public var decodedLength: Int
    public var checksum: UInt64
    public var encoding: FrameEncoding
    public var shuffle: Int
}

/// Encodes frames: optional byte shuffle, zstd at a level, raw when zstd saves too little. Thread-safe.
public enum FrameEncoder {
    /// - Parameters:
    ///   - bytes: the decoded bytes of the frame.
    ///   - shuffleElementSize: byte-shuffle with this element size before compressing (1 = none).
    ///   - level: zstd level.
    ///   - minimumSaving: store raw when zstd saves less than this fraction (0.03).
    public static func encode(_ bytes: UnsafeRawBufferPointer, shuffleElementSize: Int, level: Int, minimumSaving: Double = 0.03) -> EncodedFrame { fatalError("unimplemented") }
}

/// Writes a `.wst` file: into a temporary file beside the destination, fsynced and renamed on `finish`,
/// so an interrupted write never leaves a file at the destination.
public final class ContainerWriter {
    public init(destination: String, alignment: Int = 16 * 1024) throws { fatalError("unimplemented") }
    /// Starts a new region on an alignment boundary (`embed`, `layer.<i>`, `head`).
    public func beginRegion(_ name: String) throws { fatalError("unimplemented") }
    public func beginTensor(name: String, shape: [Int], storage: StorageType, groupSize: Int, rowsPerBlock: Int) throws { fatalError("unimplemented") }
    /// Appends one row block of the current tensor as already-encoded frames.
    public func appendBlock(_ frames: [EncodedFrame]) throws { fatalError("unimplemented") }
    public func endTensor() throws { fatalError("unimplemented") }
    /// Writes metadata and header, fsyncs, renames the temporary file to the destination.
    public func finish(config: ModelConfig, tokenizer: TokenizerSpec, quantization: QuantizationInfo, producer: [String: String]) throws { fatalError("unimplemented") }
}
