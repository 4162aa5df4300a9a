import WStreamFormat
import WStreamImport
import WStreamQuant

/// Where each tensor goes in the `.wst` file and how it is stored.
///
/// Regions, in file order: `embed` (the token table, only when the output head is untied: it is then
/// read a row block at a time), `layer.0` … `layer.N-1`, and `head` (final norm and output matrix; with
/// tied embeddings the token table lives here, since every token needs all of it for the logits).
struct PackLayout {
    struct Placement {
        let source: any TensorSource
        let region: Int
        let storage: StorageType
        let rowsPerBlock: Int
    }

    let regionNames: [String]
    /// Tensors in file order.
    let placements: [Placement]

    /// Decoded bytes a regular block aims at: large enough for efficient zstd and few frames,
    /// small enough that a block of every tensor decodes quickly.
    static let targetBlockBytes = 1 << 20
    /// Decoded bytes of a token-table block, kept small because a lookup decodes a whole block.
    static let embeddingBlockBytes = 32 << 10

    init(model: ImportedModel, options: PackOptions) throws {
        let config = model.config
        let untiedTable = model.tensors.contains { $0.name == TensorName.output }
        var names = untiedTable ? ["embed"] : []
        names += (0..<config.layerCount).map { "layer.\($0)" }
        names.append("head")
        regionNames = names

        var byName: [String: any TensorSource] = [:]
        for tensor in model.tensors { byName[tensor.name] = tensor }
        var placements: [Placement] = []
        func place(_ name: String, region: String) throws {
            guard let source = byName.removeValue(forKey: name) else {
                throw PackError.missingTensor(source: model.source, tensor: name)
            }
            let isHead = name == TensorName.output || (name == TensorName.tokenEmbedding && !untiedTable)
            let storage = Self.storage(for: source, bits: isHead ? options.effectiveHeadBits : options.bits)
            let rowBytes = Self.rowBytes(storage: storage, cols: source.shape.last ?? 0, groupSize: options.groupSize)
            let target = name == TensorName.tokenEmbedding ? Self.embeddingBlockBytes : Self.targetBlockBytes
            let rows = source.shape.count == 2 ? source.shape[0] : 1
            placements.append(Placement(source: source, region: names.firstIndex(of: region)!, storage: storage,
                                        rowsPerBlock: min(rows, max(1, target / max(rowBytes, 1)))))
        }

        if untiedTable { try place(TensorName.tokenEmbedding, region: "embed") }
        for layer in 0..<config.layerCount {
            let prefix = "blk.\(layer)."
            let names = byName.keys.filter { $0.hasPrefix(prefix) }
            // Canonical order (as BlockTensor lists them) so files are reproducible.
            for part in BlockTensor.allCases where names.contains(TensorName.block(layer, part)) {
                try place(TensorName.block(layer, part), region: "layer.\(layer)")
            }
        }
        try place(TensorName.outputNorm, region: "head")
        try place(untiedTable ? TensorName.output : TensorName.tokenEmbedding, region: "head")
        if let stray = byName.keys.sorted().first {
            throw PackError.unexpectedTensor(source: model.source, tensor: stray)
        }
        self.placements = placements
    }

    /// Linear-layer matrices (and the token table) are quantised; vectors and LFM2's conv taps stay float32.
    static func storage(for tensor: any TensorSource, bits: Int) -> StorageType {
        let isMatrix = tensor.shape.count == 2 && !tensor.name.hasSuffix(BlockTensor.convWeight.rawValue)
        guard isMatrix else { return .f32 }
        switch bits {
        case 4: return .q4
        case 8: return .q8
        case 16: return .f16
        default: return .f32
        }
    }

    static func rowBytes(storage: StorageType, cols: Int, groupSize: Int) -> Int {
        switch storage {
        case .f32: return cols * 4
        case .f16: return cols * 2
        case .q4, .q8:
            let layout = QuantizedLayout(bits: storage == .q4 ? 4 : 8, groupSize: groupSize, rows: 1, cols: cols)
            return layout.blockByteCount(rows: 1)
        }
    }
}
