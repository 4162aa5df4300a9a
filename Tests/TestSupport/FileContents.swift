#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes for tests that build or inspect small files.
public enum FileContents {
    /// The bytes of `path`.
    /// - Throws: `FileContentsError` naming the path when it cannot be opened.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw FileContentsError(path: path, errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    /// Creates or replaces `path` with `bytes`.
    /// - Throws: `FileContentsError` naming the path when it cannot be written.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw FileContentsError(path: path, errno: errno) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard fclose(file) == 0, written == bytes.count else { throw FileContentsError(path: path, errno: errno) }
    }
}

/// A test file could not be read or written.
public struct FileContentsError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
