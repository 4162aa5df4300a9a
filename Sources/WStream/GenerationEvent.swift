/// One element of a generation's stream: text as it is produced, then the generation's own result.
public enum GenerationEvent: Sendable, Equatable {
    /// A piece of generated text (complete UTF-8; stop strings already held back).
    case text(String)
    /// The last event: ids, text and figures of this generation, and why it stopped.
    case finished(GenerationResult)
}
