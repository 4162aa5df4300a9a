import Foundation
import TestSupport
import WStreamFuzzing

/// The committed fuzzing inputs under `Tests/Fuzz/<target>/`: `corpus/` (a minimised corpus) and `crashes/` (every
/// input a fuzzer found a trap, leak or sanitizer report with, kept once fixed).
enum FuzzInputs {
    static let directory = SharedModels.repositoryRoot + "/Tests/Fuzz"

    /// The bytes of `Tests/Fuzz/<target>/crashes/<name>`.
    static func reproducer(_ target: String, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(filePath: "\(directory)/\(target)/crashes/\(name)")))
    }

    /// Every file in `Tests/Fuzz/<target>/<kind>/`, sorted by name (none when git has no such folder: it keeps no
    /// empty ones).
    static func files(_ target: String, _ kind: String) throws -> [String] {
        let folder = "\(directory)/\(target)/\(kind)"
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }
    }

    /// A fresh target of each kind, by name.
    static func target(_ name: String) throws -> any FuzzTarget {
        switch name {
        case GGUFTarget.name: try GGUFTarget()
        case SafetensorsTarget.name: try SafetensorsTarget()
        case TokenizerTarget.name: try TokenizerTarget()
        case FrameTarget.name: FrameTarget()
        case ChatTemplateTarget.name: ChatTemplateTarget()
        default: try ContainerTarget(sharedModels: try SharedModels.path(""))
        }
    }

    static let targetNames = [GGUFTarget.name, SafetensorsTarget.name, ContainerTarget.name, FrameTarget.name, TokenizerTarget.name, ChatTemplateTarget.name]
}
