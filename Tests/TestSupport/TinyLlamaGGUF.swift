/// A complete one-block `llama` GGUF small enough to build in a test: hidden 32, 2 heads of 16, 1 KV head,
/// FFN 32, vocabulary 4. F32 tensor element `(row, col)` holds `1000·row + col` (in stored row order).
public enum TinyLlamaGGUF {
    public static let hidden = 32
    public static let ffn = 32
    public static let vocab = 4

    /// GGUF dims (`ne[0]` first) of each tensor.
    public static let tensors: [(name: String, dimensions: [Int])] = [
        ("token_embd.weight", [hidden, vocab]), ("output_norm.weight", [hidden]),
        ("blk.0.attn_norm.weight", [hidden]), ("blk.0.attn_q.weight", [hidden, 32]),
        ("blk.0.attn_k.weight", [hidden, 16]), ("blk.0.attn_v.weight", [hidden, 16]),
        ("blk.0.attn_output.weight", [32, hidden]), ("blk.0.ffn_norm.weight", [hidden]),
        ("blk.0.ffn_gate.weight", [hidden, ffn]), ("blk.0.ffn_up.weight", [hidden, ffn]),
        ("blk.0.ffn_down.weight", [ffn, hidden]),
    ]

    /// - Parameters:
    ///   - types: ggml type code and raw data per tensor name, replacing the F32 pattern.
    ///   - omitting: tensor names to leave out.
    ///   - ropeFactors: values of a `rope_freqs.weight` tensor (8: one per rotated pair of a 16-wide head).
    public static func build(types: [String: (UInt32, [UInt8])] = [:], omitting: Set<String> = [], ropeFactors: [Float]? = nil) -> [UInt8] {
        var builder = GGUFBuilder()
        builder.add("general.architecture", string: "llama")
        builder.add("llama.embedding_length", uint32: UInt32(hidden))
        builder.add("llama.block_count", uint32: 1)
        builder.add("llama.attention.head_count", uint32: 2)
        builder.add("llama.attention.head_count_kv", uint32: 1)
        builder.add("llama.feed_forward_length", uint32: UInt32(ffn))
        builder.add("llama.context_length", uint32: 64)
        builder.add("llama.attention.layer_norm_rms_epsilon", float32: 1e-5)
        builder.add("tokenizer.ggml.model", string: "llama")
        builder.add("tokenizer.ggml.tokens", strings: ["<unk>", "<s>", "</s>", "▁a"])
        builder.add("tokenizer.ggml.scores", float32s: [0, 0, 0, -1])
        for (name, dimensions) in tensors where !omitting.contains(name) {
            if let (type, data) = types[name] {
                builder.addTensor(name, dimensions: dimensions, type: type, data: data)
            } else {
                let cols = dimensions[0]
                let rows = dimensions.count == 2 ? dimensions[1] : 1
                let values = (0..<rows * cols).map { Float(1000 * ($0 / cols) + $0 % cols) }
                builder.addTensor(name, dimensions: dimensions, type: 0, data: .float32(values))
            }
        }
        if let ropeFactors { builder.addTensor("rope_freqs.weight", dimensions: [ropeFactors.count], type: 0, data: .float32(ropeFactors)) }
        return builder.build()
    }
}
