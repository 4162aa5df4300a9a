import WStreamFormat
import WStreamImport
import WStreamQuant

/// Where each tensor goes in the `.wst` file and how it is stored.
///
/// Regions, in file order: `embed` (the token table, only when the output head is untied: it is then
/// read a row block at a time), `layer.0` … `layer.N-1`, and `head` (final norm and output matrix; with
/// tied embeddings the token table lives here, since every token needs all of it for the logits).
struct PackLayout: Sendable {
    struct Placement: Sendable {
        let source: any TensorSource
        let region: Int
        let storage: StorageType
        /// Affine group size for q4/q8 (the source's own when its groups are carried).
        let groupSize: Int
        /// The source's groups, when they are carried over instead of quantized afresh.
        let carried: (any AffineGroupSource)?
        let rowsPerBlock: Int
        /// Decoded bytes of one row.
        let rowBytes: Int

        /// The origin every block of the tensor shares (carried groups add their counts).
        var origin: TensorOrigin { TensorOrigin.of(source, storage: storage, carried: carried != nil) }

        var blockCount: Int {
            let rows = source.shape.count == 2 ? source.shape[0] : 1
            return (rows + rowsPerBlock - 1) / rowsPerBlock
        }
    }

    let regionNames: [String]
    /// Tensors in file order.
    let placements: [Placement]

    /// Decoded bytes a regular block aims at: large enough for efficient zstd and few frames,
    /// small enough that a block of every tensor decodes quickly.
    static let targetBlockBytes = 1 << 20
    /// Decoded bytes of a token-table block, kept small because a lookup decodes a whole block.
    static let embeddingBlockBytes = 32 << 10
    /// Decoded bytes of a token-table block when the table is also the output head (tied embeddings). Every decode
    /// step streams the whole head, and its product ran 12 % slower per token in 32 KiB blocks than in 1 MiB ones
    /// (one thread, Llama-3.2-1B shape: 21 against 23.5 tok/s; 128 KiB blocks: 23.1, 256 KiB: 23.4); a lookup
    /// then reads 256 KiB, some 40 µs per token.
    static let headTableBlockBytes = 256 << 10

    /// Places every tensor `model.config` calls for, checking names and shapes, since the runtime trusts the file.
    /// - Throws: `PackError.missingTensor`, `.shapeMismatch` or `.unexpectedTensor` naming the tensor,
    ///   `.inconsistentConfig` when the configuration contradicts itself.
    init(model: ImportedModel, options: PackOptions) throws {
        let config = model.config
        guard config.blockKinds.count == config.layerCount else {
            throw PackError.inconsistentConfig(
                source: model.source, reason: "\(config.layerCount) blocks but \(config.blockKinds.count) block kinds")
        }
        let untiedTable = !config.tiedEmbeddings
        var names = untiedTable ? ["embed"] : []
        names += (0..<config.layerCount).map { "layer.\($0)" }
        names.append("head")
        regionNames = names

        var byName: [String: any TensorSource] = [:]
        for tensor in model.tensors { byName[tensor.name] = tensor }
        // Canonical order, so files are reproducible; a tied token table moves to the end of `head`.
        var expected = try CanonicalLayout.expectedShapes(of: config)
        if !untiedTable, let table = expected.firstIndex(where: { $0.name == TensorName.tokenEmbedding }) {
            expected.append(expected.remove(at: table))
        }
        var placements: [Placement] = []
        for (name, shape) in expected {
            guard let source = byName.removeValue(forKey: name) else {
                throw PackError.missingTensor(source: model.source, tensor: name)
            }
            guard source.shape == shape else {
                throw PackError.shapeMismatch(source: model.source, tensor: name, expected: shape, found: source.shape)
            }
            let region = Self.regionName(of: name, untiedTable: untiedTable)
            let isHead = name == TensorName.output || (name == TensorName.tokenEmbedding && !untiedTable)
            let bits = isHead ? options.effectiveHeadBits : options.bits
            var storage = Self.storage(for: source, bits: bits, parameters: options.groupParameters)
            var groupSize = options.groupSize
            var carried: (any AffineGroupSource)?
            if !options.requantize, storage.codeBits != nil, let groups = source as? any AffineGroupSource,
                let scheme = groups.affineGroups, !scheme.isNative || options.keepNativeGroups,
                let width = CarriedGroups.width(for: scheme, targetBits: scheme.isNative ? 8 : bits)
            {
                (storage, groupSize, carried) = (width == 4 ? .q4 : .q8, scheme.groupSize, groups)
            }
            let rowBytes = Self.rowBytes(storage: storage, cols: source.shape.last ?? 0, groupSize: groupSize)
            let target = name != TensorName.tokenEmbedding ? Self.targetBlockBytes
                : untiedTable ? Self.embeddingBlockBytes : Self.headTableBlockBytes
            let rows = source.shape.count == 2 ? source.shape[0] : 1
            placements.append(Placement(source: source, region: names.firstIndex(of: region)!, storage: storage,
                                        groupSize: groupSize, carried: carried,
                                        rowsPerBlock: Self.rowsPerBlock(rows: rows, rowBytes: rowBytes, target: target), rowBytes: rowBytes))
        }
        if let stray = byName.keys.sorted().first {
            throw PackError.unexpectedTensor(source: model.source, tensor: stray)
        }
        self.placements = placements
    }

    /// Rows per block of about `target` bytes, a multiple of the rows that fill whole 64-byte lines, so that every
    /// block (and with it its rows' codes) starts on a line as its tensor does. Misaligned blocks made every 64-byte
    /// load of a kernel straddle two lines: decode ran 4 % slower on one thread (Llama-3.2-1B shape, 23.8 against
    /// 25.0 tok/s, same run).
    static func rowsPerBlock(rows: Int, rowBytes: Int, target: Int) -> Int {
        let quantum = 64 / gcd(max(rowBytes, 1), 64)
        return min(rows, max(quantum, target / max(rowBytes, 1) / quantum * quantum))
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// The region of canonical tensor `name`: `blk.<i>.…` in `layer.<i>`, the token table in `embed` when the
    /// head is untied, the rest in `head`.
    static func regionName(of name: String, untiedTable: Bool) -> String {
        if name.hasPrefix("blk."), let layer = name.split(separator: ".").dropFirst().first { return "layer.\(layer)" }
        return name == TensorName.tokenEmbedding && untiedTable ? "embed" : "head"
    }

    /// Linear-layer matrices (and the token table) are quantised; vectors and LFM2's conv taps stay float32.
    static func storage(for tensor: any TensorSource, bits: Int, parameters: GroupParameters) -> StorageType {
        let isMatrix = tensor.shape.count == 2 && !tensor.name.hasSuffix(BlockTensor.convWeight.rawValue)
        guard isMatrix else { return .f32 }
        let rowScaled = parameters == .rowScaled
        switch bits {
        case 4: return rowScaled ? .q4r : .q4
        case 6: return rowScaled ? .q6r : .q6
        case 8: return rowScaled ? .q8r : .q8
        case 16: return .f16
        default: return .f32
        }
    }

    static func rowBytes(storage: StorageType, cols: Int, groupSize: Int) -> Int {
        switch storage {
        case .f32: return cols * 4
        case .f16: return cols * 2
        case .q4, .q6, .q8, .q4r, .q6r, .q8r:
            return QuantizedLayout(storage: storage, groupSize: groupSize, rows: 1, cols: cols).blockByteCount(rows: 1)
        }
    }
}

extension QuantizedLayout {
    /// The layout of a quantized storage type (`q4`, `q6`, `q8` and their row-scaled forms).
    init(storage: StorageType, groupSize: Int, rows: Int, cols: Int) {
        self.init(bits: storage.codeBits!, groupSize: groupSize, rows: rows, cols: cols,
                  parameters: storage.isRowScaled ? .rowScaled : .float16)
    }
}
