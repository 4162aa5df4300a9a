#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat

/// How fast a file reads from the disk: sequential reads of 8 MiB past the page cache (`O_DIRECT`), the way the
/// streamer reads units in `StreamingIO.direct`. With the disk's bandwidth and the bytes streamed per token, the
/// disk-bound decode speed is bandwidth ÷ bytes per token.
public enum DiskBandwidth {
    /// Reads up to `limit` bytes of `path` from its start and returns bytes per second.
    /// - Throws: `FormatError.io` for a file that cannot be opened or read.
    public static func measure(path: String, limit: Int = 1 << 30) throws -> Double {
        let file = try ReadOnlyFile(path: path)
        let chunk = 8 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: ReadOnlyFile.pageSize)
        defer { buffer.deallocate() }
        let total = min(limit, file.size) / ReadOnlyFile.pageSize * ReadOnlyFile.pageSize
        let clock = ContinuousClock()
        let start = clock.now
        var offset = 0
        while offset < total {
            let count = min(chunk, total - offset)
            try file.readDirect(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
            offset += count
        }
        let seconds = (clock.now - start).seconds
        return seconds > 0 ? Double(total) / seconds : 0
    }

    /// Whether reads of `path` bypass the page cache (`O_DIRECT` is available on its file system); when they do not,
    /// `measure` reports the page cache's speed, not the disk's.
    public static func bypassesPageCache(path: String) -> Bool {
        (try? ReadOnlyFile(path: path))?.supportsDirectReads ?? false
    }
}
