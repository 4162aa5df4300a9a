import WStreamQuant

/// One request of the soak's mix, drawn at random: chat or completion, streamed or not, a short prompt, a prompt that
/// fills the context to its last position, one a position too long (which the server must refuse with 400), or a
/// reply left to run until the context is full; some streamed ones are abandoned midway.
struct SoakRequest {
    enum Kind: String, CaseIterable {
        case short = "short prompt"
        case nearLimit = "prompt at the context limit"
        case overLimit = "prompt past the context limit"
        case fillContext = "reply to the end of the context"
    }

    let model: SoakOptions.Model
    let chat: Bool
    let stream: Bool
    let kind: Kind
    /// For a streamed request: close the connection after this many events (a client going away).
    let disconnectAfterEvents: Int?
    let path: String
    let body: String

    private static let prompts = [
        "Once upon a time", "The little dog ran to the park and", "Tell me a story about a cat.", "Lily wanted to play",
        "Why is the sky blue?", "One day, a boy found a red ball", "Write one sentence about the sea.", "Hello",
    ]

    /// Draws a request to one of `models`.
    static func random(_ models: [SoakOptions.Model], using random: inout SplitMix64) -> SoakRequest {
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        let model = pick(models)
        let chat = chance(50)
        let stream = chance(50)
        let temperature = pick(["0", "0.7", "1.0"])
        var maxTokens: Int? = 1 + Int(random.next() % 48)
        var kind = Kind.short
        var prompt = "\"\(pick(prompts))\""
        if chat {
            if chance(10) {
                kind = .fillContext
                maxTokens = nil
            }
        } else if chance(20) {
            kind = .nearLimit
            maxTokens = 1 + Int(random.next() % 8)
            prompt = tokenIds(model.context - maxTokens!, vocabulary: model.vocabulary, using: &random)
        } else if chance(5) {
            kind = .overLimit
            maxTokens = 1 + Int(random.next() % 8)
            prompt = tokenIds(model.context - maxTokens! + 1, vocabulary: model.vocabulary, using: &random)
        }
        var fields = [#""model":"\#(model.id)""#, #""temperature":\#(temperature)"#, #""stream":\#(stream)"#]
        if let maxTokens { fields.append(#""max_tokens":\#(maxTokens)"#) }
        if stream { fields.append(#""stream_options":{"include_usage":true}"#) }
        fields.append(chat ? #""messages":[{"role":"user","content":\#(prompt)}]"# : #""prompt":\#(prompt)"#)
        return SoakRequest(
            model: model, chat: chat, stream: stream, kind: kind,
            disconnectAfterEvents: stream && kind != .overLimit && chance(20) ? 1 + Int(random.next() % 4) : nil,
            path: chat ? "/v1/chat/completions" : "/v1/completions", body: "{" + fields.joined(separator: ",") + "}")
    }

    /// `count` random token ids as a JSON array.
    private static func tokenIds(_ count: Int, vocabulary: Int, using random: inout SplitMix64) -> String {
        "[" + (0..<count).map { _ in String(random.next() % UInt64(vocabulary)) }.joined(separator: ",") + "]"
    }
}
