#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Reads the files seeds are made from (`../shared/models`) and the folders of inputs a run left.
enum InputFiles {
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

    /// The names of the files in `directory` that end in `suffix` (hidden ones left out), sorted.
    /// - Throws: `FuzzingError.sharedFile` when the folder cannot be read.
    static func names(in directory: String, endingIn suffix: String = "") throws(FuzzingError) -> [String] {
        guard let folder = opendir(directory) else { throw .sharedFile(path: directory, reason: String(cString: strerror(errno))) }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            // In place: a dirent is only as long as its name, so copying the whole struct would read past it.
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) { String(cString: $0) }
            }
            if !name.hasPrefix("."), name.hasSuffix(suffix) { names.append(name) }
        }
        return names.sorted()
    }
}
