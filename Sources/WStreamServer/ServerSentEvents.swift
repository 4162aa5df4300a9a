import FoundationEssentials
import HTTPTypes
import Hummingbird

/// Writes a response body as server-sent events in OpenAI's format: `data: <json>` and a blank line per
/// event, `data: [DONE]` at the end.
struct ServerSentEvents {
    private var writer: any ResponseBodyWriter
    private let encoder = JSONEncoder()

    init(writer: any ResponseBodyWriter) {
        self.writer = writer
    }

    /// Headers of an event stream; proxies are asked not to buffer it.
    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
    }

    /// One `data:` event holding `value` as JSON.
    /// - Throws: when the client has gone (the write fails).
    mutating func send(_ value: some Encodable) async throws {
        var bytes = Array("data: ".utf8)
        bytes += try encoder.encode(value)
        bytes += Array("\n\n".utf8)
        try await writer.write(ByteBuffer(bytes: bytes))
    }

    /// `data: [DONE]`, then the end of the body.
    consuming func finish() async throws {
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    }
}
