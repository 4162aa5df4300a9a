import WStreamFormat
import WStreamQuant

/// Frame decoding (zstd and byte un-shuffling): an input is a 4-byte frame description followed by the frame's
/// stored bytes.
///
/// Byte 0: bit 0 set for zstd, clear for raw. Byte 1: the shuffle element size (0 reads as 1, 255 as 2³¹−1; a file
/// may record any size of 1 or more). Bytes 2–3: the decoded length, little-endian (a raw frame's is its stored
/// length, as the file validator requires). The frame is decoded into a buffer of exactly its decoded length with
/// a decoder that every input reuses, as a reader's thread does.
public final class FrameTarget: FuzzTarget {
    public static let name = "frame"
    private let decoder = FrameDecoder()

    public init() {}

    /// A frame the decoder refused, with its reason.
    public struct Refused: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "frame refused: \(reason)" }
    }

    public func run(_ input: UnsafeRawBufferPointer) throws {
        var header = [UInt8](repeating: 0, count: 4)
        for index in 0..<min(4, input.count) { header[index] = input[index] }
        let stored = UnsafeRawBufferPointer(rebasing: input[min(4, input.count)...])
        let encoding: FrameEncoding = header[0] & 1 == 1 ? .zstd : .raw
        let shuffle = header[1] == 255 ? Int(Int32.max) : max(1, Int(header[1]))
        let decodedLength = encoding == .raw ? stored.count : Int(header[2]) | Int(header[3]) << 8
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: decodedLength, alignment: 64)
        defer { destination.deallocate() }
        if let failure = decoder.decode(stored, encoding: encoding, shuffle: shuffle, decodedLength: decodedLength, into: destination) {
            throw Refused(reason: failure)
        }
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        var random = SplitMix64(seed: 7)
        // Half-precision values near 1 (as scales are) compress; random codes do not.
        let halves = (0..<512).flatMap { _ in withUnsafeBytes(of: Float16(1 + random.unit() / 8).bitPattern.littleEndian) { Array($0) } }
        let codes = random.bytes(700)
        var seeds: [FuzzSeed] = []
        for (name, bytes, shuffle) in [("halves", halves, 2), ("halves-shuffle-3", halves, 3), ("codes", codes, 1), ("floats", halves, 4)] {
            let frame = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: shuffle, level: 3, minimumSaving: -1) }
            let length = UInt16(frame.decodedLength)
            let description: [UInt8] = [frame.encoding == .zstd ? 1 : 0, UInt8(frame.shuffle), UInt8(length & 0xFF), UInt8(length >> 8)]
            seeds.append(FuzzSeed(name: "\(frame.encoding)-\(name)", bytes: description + frame.stored))
        }
        seeds.append(FuzzSeed(name: "raw-shuffle-2", bytes: [0, 2, 0, 0] + halves))
        return seeds
    }
}
