import WStreamFormat
import WStreamQuant

/// One model family: the tensors its blocks hold, what a sequence keeps for each block between forward passes,
/// and the block's forward pass, written out top to bottom.
///
/// Everything around the blocks is shared (`TransformerStack`): the token embedding, streaming each block's
/// weights in, the final norm and the output head. The layers a block is made of (`RMSNorm`, `Attention`,
/// `FeedForward`, `ShortConvolution`, `Linear`) are shared pieces the family calls explicitly; nothing switches on
/// which tensors a file happens to contain.
///
/// Each family is one file in `Families/`, named after its type; the build registers every file there
/// (`Plugins/FamilyRegistry`), so adding a family is adding that file (and its checkpoint names in
/// `WStreamImport/Families`). docs/ARCHITECTURE.md walks through Qwen3 as the example.
protocol ModelFamily: Sendable {
    /// The `ModelConfig.architecture` this family runs.
    static var architecture: Architecture { get }

    /// Prepares the family for `config`.
    /// - Throws: `ModelError.invalidConfiguration` for what this family cannot run (the shared checks are done).
    init(config: ModelConfig, file: String) throws

    /// The tensors block `layer` holds: each must be present in the block's region with the shape its
    /// `BlockTensor` implies, and nothing else may be.
    func tensors(ofBlock layer: Int) -> [BlockTensor]

    /// What one sequence keeps for block `layer` between forward passes (its size counts in the working set).
    func cache(ofBlock layer: Int) -> BlockCache.Kind

    /// Runs block `layer` on the rows of `batch`, updating `x.residual` in place and each row's sequence cache.
    func forward(block layer: Int, weights: BlockWeights, batch: Batch, x: Activations, compute: Compute) throws
}

/// Finding the family that runs a configuration.
enum ModelFamilies {
    /// Every family this build runs (generated from `Families/`).
    static var all: [any ModelFamily.Type] { registeredModelFamilies }

    /// The family for `config`, prepared for it.
    /// - Throws: `ModelError.unsupportedArchitecture` listing the known families, or the family's configuration error.
    static func family(for config: ModelConfig, file: String) throws -> any ModelFamily {
        guard let family = all.first(where: { $0.architecture == config.architecture }) else {
            throw ModelError.unsupportedArchitecture(file: file, architecture: config.architecture.rawValue,
                                                     supported: all.map { $0.architecture.rawValue }.sorted())
        }
        return try family.init(config: config, file: file)
    }
}
