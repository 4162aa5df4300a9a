import WStream

/// The interactive loop of `run --chat`: read a line, render the conversation with the model's chat
/// template, stream the reply. The KV cache carries over between turns (only new tokens are fed).
struct ChatSession {
    let engine: Engine
    let options: GenerationOptions
    let system: String?
    let showStats: Bool

    func run() async throws {
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        if engine.tokenizer.spec.chatTemplate == nil {
            Terminal.error("\(engine.path) has no chat template; using ChatML")
        }
        Terminal.error("chat with \(engine.path) — an empty line or Ctrl-D ends the session")
        while true {
            Terminal.write("> ")
            guard let line = readLine(), !line.isEmpty else { break }
            messages.append(ChatMessage(role: "user", content: line))
            var reply = ""
            var finished: GenerationResult?
            for try await event in try engine.generate(messages: messages, options: options) {
                switch event {
                case .text(let piece):
                    Terminal.write(piece)
                    reply += piece
                case .finished(let result):
                    finished = result
                }
            }
            Terminal.write("\n")
            messages.append(ChatMessage(role: "assistant", content: reply))
            if showStats, let result = finished { StatisticsReport.print(result.statistics) }
        }
    }
}
