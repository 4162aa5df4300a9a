import Synchronization

/// Lets another thread stop a generation: checked between prefill chunks and between tokens.
public final class GenerationCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the generation to stop; it ends with `StopReason.cancelled` at its next check.
    public func cancel() {
        flag.store(true, ordering: .relaxed)
    }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
