#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under /tmp for a sweep's copies, journals and worker output.
struct ScratchFolder {
    let path: String

    /// Creates `/tmp/wstream-flip-sweep-XXXXXX`.
    /// - Throws: `CommandFailure` when it cannot be created.
    init() throws(CommandFailure) {
        var template = Array("/tmp/wstream-flip-sweep-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw CommandFailure(path: "/tmp/wstream-flip-sweep-XXXXXX", operation: "mkdtemp")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes the folder and the files in it.
    func remove() {
        if let handle = opendir(path) {
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(handle)
        }
        rmdir(path)
    }
}
