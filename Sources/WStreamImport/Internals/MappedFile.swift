import WStreamFormat

/// A whole source file (GGUF, safetensors, JSON) mapped read-only through WStreamFormat's `ReadOnlyFile`, with the
/// bounds checks and page releases an importer needs. Pages are read on first touch, never loaded up front; tensor
/// sources hold the mapping, so the file stays mapped while they are used.
struct MappedFile: @unchecked Sendable {
    private let window: FileWindow

    /// - Throws: `ImportError.unreadable` when the file cannot be opened or mapped, `.truncated` when it is empty.
    init(path: String) throws {
        let file: ReadOnlyFile
        do { file = try ReadOnlyFile(path: path) } catch { throw ImportError.unreadable(file: path, reason: error.reason) }
        guard file.size > 0 else { throw ImportError.truncated(file: path, what: "header", offset: 0, needed: 8, fileSize: 0) }
        do { window = try file.map(0..<file.size) } catch { throw ImportError.unreadable(file: path, reason: error.reason) }
    }

    var path: String { window.file.path }
    var size: Int { window.range.count }
    /// Start of the mapping; immutable and read-only, which is what makes sharing across threads safe.
    var base: UnsafeRawPointer { window.bytes.baseAddress! }
    /// The whole file as bytes.
    var bytes: UnsafeRawBufferPointer { window.bytes }

    /// Throws unless `offset..<offset+count` lies inside the file.
    func checkRange(offset: Int, count: Int, tensor: String) throws {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard offset >= 0, count >= 0, !overflow, end <= size else {
            throw ImportError.tensorOutOfBounds(
                file: path, tensor: tensor, start: offset, end: overflow ? Int.max : end, fileSize: size)
        }
    }

    /// Drops the pages around `offset..<offset+count` from this process's resident set.
    ///
    /// Reading a model row by row would otherwise keep every page read resident: 2.3 GB of RSS to pack a 1.2B
    /// model. The range is widened by `FileWindow.faultAroundReach`, because a read fault maps the cached pages
    /// around it too, which would otherwise stay resident.
    func releasePages(offset: Int, count: Int) {
        let reach = FileWindow.faultAroundReach
        window.release((offset / reach * reach)..<((offset + count + reach - 1) / reach * reach))
    }
}

extension FormatError {
    /// The reason of an I/O error without the path (the importer's errors name the file themselves).
    var reason: String {
        if case .io(_, let operation, let reason) = self { return "\(operation): \(reason)" }
        return description
    }
}
