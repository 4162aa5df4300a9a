/// How the inputs in a folder end when run through a target once each: how many were accepted, and how many each
/// type of error rejected. It shows how deep a corpus reaches (a `.wst` corpus whose inputs all fail their checksum
/// tests only the checksum).
public enum FuzzOutcomes {
    /// - Parameters:
    ///   - target: the target to run the inputs through.
    ///   - directory: a folder of inputs (a corpus, `found/`).
    /// - Returns: each outcome ("accepted", or the error's type and case) with its count, most frequent first.
    /// - Throws: `FuzzingError` when the folder or a file in it cannot be read.
    public static func count(_ target: some FuzzTarget, inputsIn directory: String) throws -> [(outcome: String, count: Int)] {
        var counts: [String: Int] = [:]
        for name in try InputFiles.names(in: directory) {
            let input = try InputFiles.read(name, in: directory)
            do {
                try target.run(input)
                counts["accepted", default: 0] += 1
            } catch {
                counts["rejected: " + kind(of: error), default: 0] += 1
            }
        }
        return counts.map { (outcome: $0.key, count: $0.value) }.sorted { $0.count > $1.count || ($0.count == $1.count && $0.outcome < $1.outcome) }
    }

    /// An error's type and, for an enum case, the case: `FormatError.checksumMismatch`.
    private static func kind(of error: any Error) -> String {
        let type = String(describing: Swift.type(of: error))
        let mirror = Mirror(reflecting: error)
        guard mirror.displayStyle == .enum, let caseName = mirror.children.first?.label else { return type }
        return type + "." + caseName
    }
}
