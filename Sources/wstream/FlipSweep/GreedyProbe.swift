import WStream

/// One short greedy generation on a model file, in this process: what the sweep judges each flipped bit by.
///
/// Each run opens the file anew, so every check a fresh `Engine` makes (header, metadata, each frame's checksum the
/// first time it is read) runs on the damaged bytes.
struct GreedyProbe: Sendable {
    /// What a run gave: the ids, or the error that stopped it.
    enum Result: Sendable, Equatable {
        case ids(prompt: [Int], generated: [Int])
        case failed(String)
    }

    let prompt: String
    let maxTokens: Int
    let threads: Int
    /// Load with the smallest allowance, so that units stream through the `LayerStreamer`, instead of all resident.
    let streamed: Bool

    /// Opens `path`, loads it and generates greedily.
    func run(_ path: String) async -> Result {
        do {
            var configuration = Engine.Configuration()
            configuration.threads = threads
            configuration.contextLength = 256
            let engine = try Engine(path: path, configuration: configuration)
            if streamed {
                try await engine.load(allowance: engine.minimumBytes)
            } else {
                try await engine.load(budget: nil)
            }
            var options = GenerationOptions()
            options.maxTokens = maxTokens
            options.sampling.temperature = 0
            var finished: GenerationResult?
            for try await event in engine.generate(prompt: prompt, options: options) {
                if case .finished(let result) = event { finished = result }
            }
            guard let finished else { return .failed("the generation ended without a result") }
            return .ids(prompt: finished.promptIds, generated: finished.generatedIds)
        } catch {
            return .failed(String(describing: error))
        }
    }
}
