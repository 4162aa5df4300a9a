import Synchronization

/// A request's hold on a model: a slot in its gate, given back (and the model marked used) exactly once,
/// when `release` is called or when the lease is dropped, whichever comes first. Dropping covers a response
/// that is never written because its connection closed first.
public final class ModelLease: Sendable {
    public let model: ServedModel
    private let held = Mutex(true)

    init(model: ServedModel) {
        self.model = model
    }

    /// Gives the slot back.
    public func release() {
        guard held.withLock({ held in defer { held = false }; return held }) else { return }
        model.touch()
        model.gate.leave()
    }

    deinit { release() }
}
