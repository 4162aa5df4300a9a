#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Holds the clients between two requests while the coordinator lets the server go idle (so that it unloads every
/// model), then lets them go on.
final class PauseGate: Sendable {
    private let state = Mutex((requested: false, parked: 0, running: 0))

    /// A client starts (`true`) or ends (`false`).
    func client(running: Bool) {
        state.withLock { $0.running += running ? 1 : -1 }
    }

    /// Called by a client between requests: waits while a pause is on.
    func checkpoint() {
        guard state.withLock({ $0.requested }) else { return }
        state.withLock { $0.parked += 1 }
        while state.withLock({ $0.requested }) { usleep(20_000) }
        state.withLock { $0.parked -= 1 }
    }

    /// Starts a pause and waits until every running client is parked (its request in flight finished).
    func pause() {
        state.withLock { $0.requested = true }
        while state.withLock({ $0.parked < $0.running }) { usleep(20_000) }
    }

    func resume() {
        state.withLock { $0.requested = false }
    }
}
