#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The reference generations stored beside the shared models (`reference.json`).
public struct ReferenceFile: Decodable {
    public struct Case: Decodable {
        public let prompt: String?
        public let text: String?
        public let promptIds: [Int]
        public let generatedIds: [Int]
        public let continuationText: String?

        enum CodingKeys: String, CodingKey {
            case prompt, text
            case promptIds = "prompt_ids"
            case generatedIds = "generated_ids"
            case continuationText = "continuation_text"
        }

        /// The prompt text, whichever key the file uses.
        public var promptText: String { prompt ?? text ?? "" }
    }

    public let cases: [Case]

    /// Decodes `relative` (e.g. `stories260K/reference.json`) from the shared models folder.
    public static func load(_ relative: String) throws -> ReferenceFile {
        let path = try SharedModels.path(relative)
        return try JSONDecoder().decode(ReferenceFile.self, from: Data(try FileContents.read(path)))
    }
}
