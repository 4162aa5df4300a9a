import Synchronization

/// Admission for one model: at most `slots` requests in flight, at most `queueLength` more waiting in
/// arrival order, and the rest turned away at once (the server answers 503 with `Retry-After`).
///
/// A slot is handed straight from a leaving request to the first waiter, so a late arrival never overtakes
/// the queue. A waiter whose task is cancelled (its client went away) leaves the queue.
public final class SlotGate: Sendable {
    public let slots: Int
    public let queueLength: Int

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var inFlight = 0
        var waiting: [Waiter] = []
        var nextWaiterId = 0
    }

    private let state = Mutex(State())

    /// Thrown by `enter` when every slot and the queue are taken.
    public struct Full: Error {}

    /// - Parameters:
    ///   - slots: requests in flight at once (at least 1).
    ///   - queueLength: requests that may wait beyond those.
    public init(slots: Int, queueLength: Int) {
        precondition(slots >= 1 && queueLength >= 0)
        self.slots = slots
        self.queueLength = queueLength
    }

    /// Requests holding a slot.
    public var inFlight: Int { state.withLock { $0.inFlight } }
    /// Requests waiting for one.
    public var waiting: Int { state.withLock { $0.waiting.count } }
    /// No request holds or waits for a slot.
    public var isIdle: Bool { state.withLock { $0.inFlight == 0 && $0.waiting.isEmpty } }

    /// Takes a slot, waiting in the queue when all are taken.
    /// - Throws: `Full` when the queue is full too; `CancellationError` when the task is cancelled while waiting.
    public func enter() async throws {
        enum Admission { case admitted, queued, full }
        let id = state.withLock { state -> Int in
            defer { state.nextWaiterId += 1 }
            return state.nextWaiterId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let admission = state.withLock { state -> Admission in
                    if state.inFlight < slots {
                        state.inFlight += 1
                        return .admitted
                    }
                    guard state.waiting.count < queueLength, !Task.isCancelled else { return .full }
                    state.waiting.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch admission {
                case .admitted: continuation.resume()
                case .full: continuation.resume(throwing: Task.isCancelled ? CancellationError() : Full())
                case .queued: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back: to the first waiter, or free.
    public func leave() {
        let next = state.withLock { state -> Waiter? in
            if state.waiting.isEmpty {
                state.inFlight -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume()
    }
}
