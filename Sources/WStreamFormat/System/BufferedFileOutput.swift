#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written sequentially through a fixed buffer, so small frames cost no system call each
/// while the file itself is never held in memory.
final class BufferedFileOutput {
    let path: String
    /// Bytes written so far (buffered ones included): the file offset of the next byte.
    private(set) var position = 0
    private let calls: any FileSystemCalls
    private var descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0

    /// Creates (or truncates) `path` for writing.
    /// - Throws: `FormatError.io` with the errno text.
    init(creating path: String, calls: any FileSystemCalls, bufferSize: Int = 1 << 20) throws(FormatError) {
        self.path = path
        self.calls = calls
        descriptor = calls.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: "create", reason: errnoText()) }
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        if descriptor >= 0 { _ = calls.close(descriptor) }
        buffer.deallocate()
    }

    /// Appends `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        if buffered + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try writeAll(bytes, at: nil)
        } else if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + bytes.count]).copyMemory(from: bytes)
            buffered += bytes.count
        }
        position += bytes.count
    }

    /// Appends `bytes`.
    func write(_ bytes: ArraySlice<UInt8>) throws(FormatError) {
        // withUnsafeBytes only rethrows untyped errors: carry ours out in a Result.
        try bytes.withUnsafeBytes { buffer in Result { () throws(FormatError) in try write(buffer) } }.get()
    }

    /// Appends `count` zero bytes.
    func writeZeros(_ count: Int) throws(FormatError) {
        var remaining = count
        let zeros = [UInt8](repeating: 0, count: min(count, 64 * 1024))
        while remaining > 0 {
            let chunk = min(remaining, zeros.count)
            try write(zeros[0..<chunk])
            remaining -= chunk
        }
    }

    /// Overwrites bytes already written at `offset` (flushing first).
    func write(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(FormatError) {
        try flush()
        try bytes.withUnsafeBytes { buffer in Result { () throws(FormatError) in try writeAll(buffer, at: offset) } }.get()
    }

    /// Writes the buffer out.
    func flush() throws(FormatError) {
        guard buffered > 0 else { return }
        try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]), at: nil)
        buffered = 0
    }

    /// Flushes, `fsync`s and closes the file.
    func syncAndClose() throws(FormatError) {
        try flush()
        guard calls.fsync(descriptor) == 0 else { throw .io(path: path, operation: "fsync", reason: errnoText()) }
        let result = calls.close(descriptor)
        descriptor = -1
        guard result == 0 else { throw .io(path: path, operation: "close", reason: errnoText()) }
    }

    /// `write`/`pwrite` until every byte is out, retrying short writes and EINTR.
    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int?) throws(FormatError) {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            let written = offset.map { calls.pwrite(descriptor, rest, offset: $0 + done) } ?? calls.write(descriptor, rest)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", reason: errnoText())
            }
            guard written > 0 else { throw .io(path: path, operation: "write", reason: "no progress (0 bytes written)") }
            done += written
        }
    }
}
