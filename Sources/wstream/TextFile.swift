#if canImport(Glibc)
import Glibc
#endif

/// Reads small text inputs without Foundation.
enum TextFile {
    /// The whole file as UTF-8 (invalid bytes replaced).
    /// - Throws: a `CommandFailure` naming the file and the system's reason.
    static func read(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else {
            throw CommandFailure("\(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
