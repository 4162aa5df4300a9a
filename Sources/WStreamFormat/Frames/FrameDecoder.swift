import CZstd

/// A reusable zstd decompression context with a scratch buffer for un-shuffling.
///
/// Not thread-safe: use one per thread (it may be handed from thread to thread, never shared at once).
public final class FrameDecoder: @unchecked Sendable {
    private let context: OpaquePointer
    /// Holds a decompressed, still-shuffled frame; grown on demand and kept for the next frame.
    private var scratch: UnsafeMutableRawBufferPointer
    /// Holds stored bytes read from the file before they are decoded (`stagingBuffer`).
    private var staging: UnsafeMutableRawBufferPointer

    public init() {
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx failed: out of memory") }
        self.context = context
        scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        staging = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    deinit {
        ZSTD_freeDCtx(context)
        scratch.deallocate()
        staging.deallocate()
    }

    /// A buffer of `count` bytes for stored bytes about to be decoded with this decoder, kept for the next call.
    func stagingBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
        Self.grow(&staging, to: count)
    }

    /// Decodes one frame's stored bytes into `destination` (exactly `decodedLength` bytes are written).
    ///
    /// The caller has verified the checksum; this checks what zstd itself can detect.
    /// - Returns: nil on success, or why the frame cannot be decoded.
    package func decode(
        _ stored: UnsafeRawBufferPointer, encoding: FrameEncoding, shuffle: Int, decodedLength: Int,
        into destination: UnsafeMutableRawBufferPointer
    ) -> String? {
        precondition(destination.count >= decodedLength, "destination holds \(destination.count) bytes, the frame decodes to \(decodedLength)")
        let target = UnsafeMutableRawBufferPointer(rebasing: destination[0..<decodedLength])
        switch encoding {
        case .raw:
            guard stored.count == decodedLength else {
                return "raw frame stores \(stored.count) bytes but records \(decodedLength) decoded bytes"
            }
            if shuffle > 1 {
                ByteShuffle.unshuffle(stored, into: target, elementSize: shuffle)
            } else if decodedLength > 0 {
                target.copyMemory(from: stored)
            }
            return nil
        case .zstd:
            if shuffle <= 1 { return decompress(stored, into: target) }
            let shuffled = scratchBuffer(decodedLength)
            if let failure = decompress(stored, into: shuffled) { return failure }
            ByteShuffle.unshuffle(UnsafeRawBufferPointer(shuffled), into: target, elementSize: shuffle)
            return nil
        }
    }

    /// `ZSTD_decompressDCtx` into exactly `destination.count` bytes.
    private func decompress(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> String? {
        let result = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, stored.baseAddress, stored.count)
        if ZSTD_isError(result) != 0 { return "zstd: " + String(cString: ZSTD_getErrorName(result)) }
        if result != destination.count { return "decoded to \(result) bytes, expected \(destination.count)" }
        return nil
    }

    private func scratchBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
        Self.grow(&scratch, to: count)
    }

    /// The first `count` bytes of `buffer`, reallocated first when it is smaller.
    private static func grow(_ buffer: inout UnsafeMutableRawBufferPointer, to count: Int) -> UnsafeMutableRawBufferPointer {
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(byteCount: count, alignment: 64)
        }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
    }
}
