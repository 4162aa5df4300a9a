import WStreamFormat

/// Reads small text inputs (stories, messages, templates) through the reader's I/O layer.
enum TextFile {
    /// The whole file as UTF-8 (invalid bytes replaced).
    /// - Throws: a `CommandFailure` naming the file and the system's reason.
    static func read(_ path: String) throws -> String {
        do {
            let file = try ReadOnlyFile(path: path)
            var bytes = [UInt8](repeating: 0, count: file.size)
            try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
            return String(decoding: bytes, as: UTF8.self)
        } catch let error as FormatError {
            throw CommandFailure(error.description)
        }
    }
}
