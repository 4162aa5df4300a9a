import ArgumentParser
import WStreamFormat

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a .wst file's architecture, tokenizer and per-region storage.")

    @Argument(help: "The .wst file.")
    var model: String

    @Flag(help: "List every tensor, not only one line per region.")
    var tensors = false

    func run() throws {
        let reader = try ContainerReader(path: model)
        let meta = reader.metadata
        let c = meta.config
        print("\(model)")
        print("  architecture   \(c.architecture.rawValue)")
        print("  hidden \(c.hiddenSize), blocks \(c.layerCount), heads \(c.headCount) (kv \(c.kvHeadCount), dim \(c.headDim)), ffn \(c.ffnSize), vocab \(c.vocabSize)")
        print("  context \(c.contextLength), rope θ \(c.ropeTheta), norm ε \(c.normEps), tied embeddings \(c.tiedEmbeddings)")
        if c.blockKinds.contains(.shortConv) {
            let kinds = c.blockKinds.enumerated().map { "\($0.offset):\($0.element == .attention ? "attn" : "conv")" }
            print("  blocks         \(kinds.joined(separator: " ")) (conv kernel \(c.convKernelSize))")
        }
        let q = meta.quantization
        print("  quantization   \(q.bits) bits\(q.groupSize > 0 ? ", group \(q.groupSize)" : "")")
        let t = meta.tokenizer
        print("  tokenizer      \(t.model.rawValue) (\(t.preTokenizer.rawValue)), \(t.tokens.count) tokens, \(t.merges.count) merges, bos \(t.bosTokenId.map(String.init) ?? "-"), eos \(t.eosTokenId.map(String.init) ?? "-"), chat template \(t.chatTemplate == nil ? "no" : "yes")")
        print("")
        print(row("region", "tensors", "storage", "decoded", "stored", "ratio", tensors ? "origin" : ""))
        var totalDecoded = 0
        var totalStored = 0
        for (index, region) in meta.regions.enumerated() {
            let members = reader.tensors(inRegion: index)
            let decoded = members.reduce(0) { $0 + $1.decodedByteCount }
            let stored = members.reduce(0) { $0 + $1.frames.reduce(0) { $0 + Int($1.storedLength) } }
            let storages = Set(members.map(\.storage.rawValue)).sorted().joined(separator: ",")
            totalDecoded += decoded
            totalStored += stored
            print(row(region.name, "\(members.count)", storages, Terminal.megabytes(decoded), Terminal.megabytes(stored), ratio(decoded, stored)))
            if tensors {
                for tensor in members {
                    let stored = tensor.frames.reduce(0) { $0 + Int($1.storedLength) }
                    let storage = tensor.groupSize > 0 ? "\(tensor.storage.rawValue) g\(tensor.groupSize)" : tensor.storage.rawValue
                    print(row("  " + tensor.name, "\(tensor.shape)", storage, Terminal.megabytes(tensor.decodedByteCount), Terminal.megabytes(stored), ratio(tensor.decodedByteCount, stored), tensor.origin ?? "-"))
                }
            }
        }
        print(row("total", "\(meta.tensors.count)", "", Terminal.megabytes(totalDecoded), Terminal.megabytes(totalStored), ratio(totalDecoded, totalStored)))
    }

    private func ratio(_ decoded: Int, _ stored: Int) -> String {
        stored > 0 ? "×" + Terminal.decimal(Double(decoded) / Double(stored), places: 3) : "-"
    }

    private func row(_ columns: String...) -> String {
        let widths = [36, 12, 10, 12, 12, 8, 0]
        let padded = zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
        return String(padded.reversed().drop { $0 == " " }.reversed())
    }
}
