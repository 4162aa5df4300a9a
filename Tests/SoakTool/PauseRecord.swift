import Synchronization

/// What the idle pauses found: how many there were, in how many every model had been unloaded, and the server's RSS
/// at each (nothing loaded: a leak shows as a rising series).
final class PauseRecord: Sendable {
    private let state = Mutex((count: 0, unloadedAll: 0, lastStates: [String: String]?.none, idleResident: [Int]()))

    func record(unloadedAll: Bool, states: [String: String], resident: Int) {
        state.withLock {
            $0.count += 1
            $0.unloadedAll += unloadedAll ? 1 : 0
            $0.lastStates = states
            $0.idleResident.append(resident)
        }
    }

    var idleResident: [Int] { state.withLock { $0.idleResident } }

    var count: Int { state.withLock { $0.count } }
    var unloadedAll: Int { state.withLock { $0.unloadedAll } }
    var lastStates: [String: String]? { state.withLock { $0.lastStates } }
}
