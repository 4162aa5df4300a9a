import CZstd
import Testing
@testable import WStreamFormat
import WStreamQuant

@Suite struct FrameCodingTests {
    @Test func xxh64MatchesTheReferenceVectors() {
        #expect(XXH64.hash(Array("".utf8)) == 0xEF46_DB37_51D8_E999)
        #expect(XXH64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    }

    /// zstd's content checksum is the low 32 bits of XXH64 (seed 0): an independent check of every length path.
    @Test(arguments: [1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 100, 1000, 4099])
    func xxh64AgreesWithZstdsContentChecksum(length: Int) throws {
        var random = SplitMix64(seed: UInt64(length))
        let bytes = random.bytes(length)
        let context = try #require(ZSTD_createCCtx())
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(length))
        let written = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { ZSTD_compress2(context, out.baseAddress, out.count, $0.baseAddress, $0.count) }
        }
        #expect(ZSTD_isError(written) == 0)
        let trailer = output[written - 4..<written].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        #expect(UInt32(truncatingIfNeeded: XXH64.hash(bytes)) == trailer)
    }

    @Test(arguments: [(0, 2), (1, 2), (7, 2), (10, 4), (13, 4), (29, 3), (64, 8), (5, 8)])
    func shuffleRoundTripsAndKeepsTheTailInPlace(length: Int, elementSize: Int) {
        var random = SplitMix64(seed: 7)
        let bytes = random.bytes(length)
        var shuffled = [UInt8](repeating: 0, count: length)
        var restored = [UInt8](repeating: 0, count: length)
        bytes.withUnsafeBytes { source in
            shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(source, into: $0, elementSize: elementSize) }
        }
        shuffled.withUnsafeBytes { source in
            restored.withUnsafeMutableBytes { ByteShuffle.unshuffle(source, into: $0, elementSize: elementSize) }
        }
        #expect(restored == bytes)
        let whole = length / elementSize * elementSize
        #expect(shuffled[whole...] == bytes[whole...])
    }

    @Test func shuffleGroupsByteKOfEveryElement() {
        let bytes: [UInt8] = [0, 1, 2, 10, 11, 12, 20, 21, 22, 99]
        var shuffled = [UInt8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBytes { source in
            shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(source, into: $0, elementSize: 3) }
        }
        #expect(shuffled == [0, 10, 20, 1, 11, 21, 2, 12, 22, 99])
    }

    @Test(arguments: [1, 2, 3, 4])
    func compressibleBytesBecomeAZstdFrameThatDecodesBack(shuffle: Int) {
        let bytes = (0..<10_001).map { UInt8(truncatingIfNeeded: ($0 / 3) % 11) }
        let frame = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: shuffle, level: 3) }
        #expect(frame.encoding == .zstd)
        #expect(frame.shuffle == shuffle)
        #expect(frame.decodedLength == bytes.count)
        #expect(frame.stored.count < bytes.count / 10)
        #expect(frame.checksum == XXH64.hash(frame.stored))
        #expect(decode(frame) == bytes)
    }

    @Test func incompressibleBytesAreStoredRawAndUnshuffled() {
        var random = SplitMix64(seed: 3)
        let bytes = random.bytes(5000)
        let frame = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 2, level: 3) }
        #expect(frame.encoding == .raw)
        #expect(frame.shuffle == 1)
        #expect(frame.stored == bytes)
        #expect(decode(frame) == bytes)
    }

    @Test func aSavingBelowTheThresholdIsStoredRaw() {
        // Half random, half zeros: zstd saves about 50%, below a 60% threshold, above a 3% one.
        var random = SplitMix64(seed: 5)
        let bytes = random.bytes(4000) + [UInt8](repeating: 0, count: 4000)
        let strict = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 1, level: 3, minimumSaving: 0.6) }
        let lenient = bytes.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 1, level: 3) }
        #expect(strict.encoding == .raw)
        #expect(lenient.encoding == .zstd)
    }

    @Test func anEmptyFrameIsRaw() {
        let frame = [UInt8]().withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 4, level: 3) }
        #expect(frame.encoding == .raw && frame.stored.isEmpty && frame.decodedLength == 0)
    }

    @Test func aRawShuffledFrameFromAnotherWriterIsUnshuffledOnDecode() {
        let original: [UInt8] = [1, 2, 3, 4, 5, 6, 7]
        let frame = EncodedFrame(stored: [1, 3, 5, 2, 4, 6, 7], decodedLength: 7, checksum: 0, encoding: .raw, shuffle: 2)
        #expect(decode(frame) == original)
    }

    private func decode(_ frame: EncodedFrame) -> [UInt8]? {
        let decoder = FrameDecoder()
        var out = [UInt8](repeating: 0, count: frame.decodedLength)
        let failure = frame.stored.withUnsafeBytes { stored in
            out.withUnsafeMutableBytes {
                decoder.decode(stored, encoding: frame.encoding, shuffle: frame.shuffle, decodedLength: frame.decodedLength, into: $0)
            }
        }
        return failure == nil ? out : nil
    }
}
