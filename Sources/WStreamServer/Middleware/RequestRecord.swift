import Synchronization

/// What a request did, filled in by the handler (and its streamed body) and logged once when it ends.
final class RequestRecord: Sendable {
    struct Figures {
        var model: String?
        var promptTokens: Int?
        var completionTokens: Int?
        var timeToFirstToken: Double?
        var tokensPerSecond: Double?
        var finishReason: String?
        /// An error after the response head was sent (the status stays 200).
        var streamError: String?
    }

    /// The record of the request being handled, set by `RequestLogMiddleware`.
    @TaskLocal static var current: RequestRecord?

    let start = ContinuousClock.now
    private let figures = Mutex(Figures())

    func update(_ change: (inout Figures) -> Void) {
        figures.withLock { change(&$0) }
    }

    var snapshot: Figures { figures.withLock { $0 } }

    /// Seconds since the request arrived.
    var elapsed: Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
