#if canImport(Glibc)
import Glibc
#endif

/// Locations of the model files in `../shared/models` (beside the repository) that tests read.
///
/// Missing files are a test failure with a clear message, never a silent skip.
public enum SharedModels {
    /// The repository root, found from this source file's path.
    public static let repositoryRoot: String = {
        var path = "\(#filePath)"
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// `../shared/models`, or `$WSTREAM_SHARED/models` when that variable is set.
    public static let directory: String = {
        if let shared = getenv("WSTREAM_SHARED") { return String(cString: shared) + "/models" }
        return repositoryRoot + "/../shared/models"
    }()

    /// Absolute path of `relative` inside the shared models folder.
    /// - Throws: `MissingSharedFile` with the full path when it does not exist.
    public static func path(_ relative: String) throws -> String {
        let full = directory + "/" + relative
        guard access(full, F_OK) == 0 else { throw MissingSharedFile(path: full) }
        return full
    }

    public static var storiesHF: String { get throws { try path("stories260K/hf") } }
    public static var storiesGGUF: String { get throws { try path("stories260K/stories260K.gguf") } }
    public static var tinyLFM2HF: String { get throws { try path("tiny-lfm2/hf") } }
    public static var tinyLFM2GGUF: String { get throws { try path("tiny-lfm2/tiny-lfm2.gguf") } }
}

/// A shared model file that a test needs is not there.
public struct MissingSharedFile: Error, CustomStringConvertible {
    public let path: String
    public var description: String {
        "missing test data: \(path) — the tests read ../shared/models beside the repository (or $WSTREAM_SHARED/models)"
    }
}
