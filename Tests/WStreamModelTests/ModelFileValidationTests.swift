import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamModel
import WStreamPack

/// A file's configuration is checked before any of its sizes is used: checksums prove a file intact, not sane.
@Suite struct ModelFileValidationTests {
    /// Each size is positive, but a product the model computes from it (the width of the queries, a cache) would
    /// overflow: the file is refused when it opens, naming the size.
    @Test(arguments: ["heads", "head width", "FFN width", "vocabulary", "blocks"])
    func oversizedConfigurationIsRefusedAtOpen(size: String) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("stories.wst")
        _ = try Packer.pack(try ModelImporter.importModel(at: try SharedModels.storiesHF), to: path, options: PackOptions())
        let hostile = directory.file("hostile.wst")
        try ContainerRewrite.rewriteMetadata(of: path, to: hostile) { metadata in
            switch size {
            case "heads": metadata.config.headCount = 1 << 60
            case "head width": metadata.config.headDim = 1 << 61
            case "FFN width": metadata.config.ffnSize = Int.max
            case "vocabulary": metadata.config.vocabSize = 1 << 40
            default: metadata.config.layerCount = 1 << 20
            }
        }
        do {
            _ = try LanguageModel(path: hostile, options: .init(contextLength: 16, budget: nil, threads: 1))
            Issue.record("\(size): opened")
        } catch let error as ModelError {
            guard case .invalidConfiguration(let file, let detail) = error else {
                Issue.record("\(size): \(error)")
                return
            }
            #expect(file == hostile)
            #expect(detail.contains(size), "\(detail)")
        }
    }
}
