/// What the soak's clients saw.
struct SoakTally: Sendable {
    var requests = 0
    var chat = 0
    var streamed = 0
    var disconnected = 0
    /// Requests by kind (`SoakRequest.Kind.rawValue`).
    var kinds: [String: Int] = [:]
    /// Over-limit prompts answered 400, as they must be.
    var refused = 0
    var tokens = 0
    /// Responses with a 5xx status.
    var serverErrors = 0
    /// Anything else that went wrong: another status, a malformed or unfinished answer, a failed connection.
    var otherErrors = 0
    var lastError: String?

    static func + (left: SoakTally, right: SoakTally) -> SoakTally {
        var sum = left
        sum.requests += right.requests
        sum.chat += right.chat
        sum.streamed += right.streamed
        sum.disconnected += right.disconnected
        sum.kinds.merge(right.kinds, uniquingKeysWith: +)
        sum.refused += right.refused
        sum.tokens += right.tokens
        sum.serverErrors += right.serverErrors
        sum.otherErrors += right.otherErrors
        sum.lastError = right.lastError ?? left.lastError
        return sum
    }

    var errors: Int { serverErrors + otherErrors }
}
