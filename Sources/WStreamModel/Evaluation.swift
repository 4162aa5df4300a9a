#if canImport(Glibc)
import Glibc
#endif

/// Teacher-forced quality figures of a model on a token sequence, optionally against a reference model.
public struct EvaluationResult: Sendable, Equatable {
    /// Positions scored (each predicts the token after it).
    public var tokens = 0
    /// exp(mean negative log-likelihood of the actual next tokens).
    public var perplexity = 0.0
    /// Mean KL(reference ‖ model) over the positions, in nats; nil without a reference.
    public var meanKLDivergence: Double?
    /// Share of positions where both models rank the same token first; nil without a reference.
    public var topOneAgreement: Double?
    public var seconds = 0.0
}

public enum Evaluation {
    /// Feeds `tokens` through `model` (and `reference`) chunk by chunk and scores every next-token prediction.
    /// Both models must be opened with `logitsForEveryPosition` and a context of at least `tokens.count`.
    public static func run(model: LanguageModel, reference: LanguageModel? = nil, tokens: [Int]) throws -> EvaluationResult {
        let clock = ContinuousClock()
        let start = clock.now
        model.reset()
        reference?.reset()
        let vocabulary = model.config.vocabSize
        var negativeLogLikelihood = 0.0
        var divergence = 0.0
        var agreements = 0
        var scored = 0
        var chunkStart = 0
        let chunk = min(model.chunkCapacity, reference?.chunkCapacity ?? .max)
        while chunkStart < tokens.count - 1 {
            let chunkEnd = min(chunkStart + chunk, tokens.count - 1)
            let slice = tokens[chunkStart..<chunkEnd]
            let logits = try model.feedReturningAllLogits(slice)
            let referenceLogits = try reference?.feedReturningAllLogits(slice)
            for row in 0..<slice.count {
                let next = tokens[chunkStart + row + 1]
                let modelRow = UnsafeBufferPointer(rebasing: logits[(row * vocabulary)..<((row + 1) * vocabulary)])
                let logProbabilities = logSoftmax(modelRow)
                negativeLogLikelihood -= logProbabilities[next]
                if let referenceLogits {
                    let referenceRow = UnsafeBufferPointer(rebasing: referenceLogits[(row * vocabulary)..<((row + 1) * vocabulary)])
                    let referenceLog = logSoftmax(referenceRow)
                    var kl = 0.0
                    for i in 0..<vocabulary where referenceLog[i] > -60 {
                        kl += exp(referenceLog[i]) * (referenceLog[i] - logProbabilities[i])
                    }
                    divergence += kl
                    if argmax(modelRow) == argmax(referenceRow) { agreements += 1 }
                }
                scored += 1
            }
            chunkStart = chunkEnd
        }
        var result = EvaluationResult()
        result.tokens = scored
        result.perplexity = exp(negativeLogLikelihood / Double(max(scored, 1)))
        if reference != nil {
            result.meanKLDivergence = divergence / Double(max(scored, 1))
            result.topOneAgreement = Double(agreements) / Double(max(scored, 1))
        }
        let elapsed = (clock.now - start).components
        result.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        return result
    }

    private static func logSoftmax(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        let maximum = Double(logits.max() ?? 0)
        let total = logits.reduce(0.0) { $0 + exp(Double($1) - maximum) }
        let offset = maximum + log(total)
        return logits.map { Double($0) - offset }
    }

    private static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }
}
