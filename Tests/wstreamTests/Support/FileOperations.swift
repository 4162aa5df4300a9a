#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// The few file operations the end-to-end tests perform on packed models: copy, damage, look.
enum FileOperations {
    /// Size of `path` in bytes, or nil when nothing is there.
    static func size(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in `directory`, without `.` and `..`.
    static func list(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func copy(_ source: String, to destination: String) throws {
        try FileContents.write(try FileContents.read(source), to: destination)
    }

    /// Inverts every bit of the byte at `offset` in place.
    static func flipByte(in path: String, at offset: Int) throws {
        var bytes = try FileContents.read(path)
        bytes[offset] ^= 0xFF
        try FileContents.write(bytes, to: path)
    }

    /// Cuts `path` down to its first `length` bytes.
    static func truncate(_ path: String, to length: Int) throws {
        try FileContents.write(Array(try FileContents.read(path).prefix(length)), to: path)
    }

    static func write(_ text: String, to path: String) throws {
        try FileContents.write(Array(text.utf8), to: path)
    }
}
