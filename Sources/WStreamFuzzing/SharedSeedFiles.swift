#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Reads the model files under `../shared/models` that seeds are made from.
enum SharedSeedFiles {
    /// The bytes of `relative` in `directory`.
    /// - Throws: `FuzzingError.sharedFile` when it cannot be read.
    static func read(_ relative: String, in directory: String) throws(FuzzingError) -> [UInt8] {
        let path = directory + "/" + relative
        do {
            return Array(try Data(contentsOf: URL(filePath: path)))
        } catch {
            throw .sharedFile(path: path, reason: "cannot be read (\(error))")
        }
    }

    /// The names of the files in `directory` that end in `suffix`, sorted.
    static func names(in directory: String, endingIn suffix: String) throws(FuzzingError) -> [String] {
        guard let folder = opendir(directory) else { throw .sharedFile(path: directory, reason: String(cString: strerror(errno))) }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(suffix) { names.append(name) }
        }
        return names.sorted()
    }
}
