#if canImport(Glibc)
import Glibc
#endif

/// Reads a journal as a worker appends to it, complete lines only.
final class JournalReader {
    let path: String
    private var offset = 0
    private var partial: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    /// The records appended since the last call.
    func readNew() -> [FlipRecord] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            guard count > 0 else { break }
            partial += buffer[0..<count]
            offset += count
        }
        guard let end = partial.lastIndex(of: 10) else { return [] }
        let text = String(decoding: partial[...end], as: UTF8.self)
        partial.removeFirst(end + 1)
        return text.split(separator: "\n").compactMap(FlipRecord.init(line:))
    }
}
