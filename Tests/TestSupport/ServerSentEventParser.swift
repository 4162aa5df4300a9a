import FoundationEssentials

/// Splits a server-sent event stream into the payloads of its `data:` lines, as bytes arrive.
public struct ServerSentEventParser {
    private var pending: [UInt8] = []

    public init() {}

    /// Adds `bytes`; returns the payloads of the events completed by them (`[DONE]` included, as text).
    public mutating func push(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var events: [String] = []
        while let end = Self.eventEnd(in: pending) {
            let event = String(decoding: pending[..<end.start], as: UTF8.self)
            pending.removeFirst(end.next)
            let data = event.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
            if !data.isEmpty { events.append(data) }
        }
        return events
    }

    /// Where the first blank line (end of an event) starts and ends.
    private static func eventEnd(in bytes: [UInt8]) -> (start: Int, next: Int)? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 10 && bytes[index + 1] == 10 {
            return (index, index + 2)
        }
        return nil
    }

    /// The text a streamed completion's events carry (chat `delta.content` or completion `text`), in order,
    /// and the `finish_reason` and `usage` they end with.
    public static func completion(from events: [String]) throws -> StreamedCompletion {
        var result = StreamedCompletion()
        for event in events {
            if event == "[DONE]" {
                result.done = true
                continue
            }
            let chunk = try JSONDecoder().decode(Chunk.self, from: Data(event.utf8))
            if chunk.error != nil { result.error = event }
            if let usage = chunk.usage { result.usage = usage }
            for choice in chunk.choices ?? [] {
                result.text += choice.text ?? choice.delta?.content ?? ""
                if let role = choice.delta?.role { result.role = role }
                if let reason = choice.finishReason { result.finishReason = reason }
            }
        }
        return result
    }

    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                var content: String?
                var role: String?
            }
            var text: String?
            var delta: Delta?
            var finishReason: String?

            enum CodingKeys: String, CodingKey {
                case text, delta
                case finishReason = "finish_reason"
            }
        }
        struct Failure: Decodable {
            var message: String
        }
        var choices: [Choice]?
        var usage: [String: Int]?
        var error: Failure?
    }
}

/// What a streamed completion added up to.
public struct StreamedCompletion: Sendable {
    public var text = ""
    public var role: String?
    public var finishReason: String?
    public var usage: [String: Int]?
    public var error: String?
    /// `data: [DONE]` arrived.
    public var done = false
}
