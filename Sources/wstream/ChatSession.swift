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
        var options = options
        options.addSpecialTokens = false
        options.parseSpecialTokens = true
        let template = try ChatTemplate(engine.tokenizer.spec)
        Terminal.error("chat with \(engine.path) — an empty line or Ctrl-D ends the session")
        while true {
            Terminal.write("> ")
            guard let line = readLine(), !line.isEmpty else { break }
            messages.append(ChatMessage(role: "user", content: line))
            let prompt = try template.render(messages, addGenerationPrompt: true)
            var reply = ""
            for try await piece in engine.generate(prompt: prompt, options: options) {
                Terminal.write(piece)
                reply += piece
            }
            Terminal.write("\n")
            messages.append(ChatMessage(role: "assistant", content: reply))
            if showStats, let result = engine.lastResult { StatisticsReport.print(result.statistics) }
        }
    }
}
