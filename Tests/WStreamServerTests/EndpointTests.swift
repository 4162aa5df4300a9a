import FoundationEssentials
import Testing
import TestSupport

/// Every endpoint, streamed and not, against the real stories260K and tiny-lfm2 weights over loopback HTTP.
@Suite struct EndpointTests {
    static let models = ["stories", "lfm2"]

    static func server(_ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--model", "stories=\(try ServedModels.stories())", "--model", "lfm2=\(try ServedModels.lfm2())",
                           "--budget", "512M", "--context", "256", "--threads", "1"] + extra)
    }

    @Test(arguments: models)
    func chatCompletionStreamedEqualsUnstreamedForTheSameSeed(model: String) throws {
        let server = try Self.server()
        let request = #"{"model":"\#(model)","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me a story"}],"# +
            #""max_tokens":24,"temperature":0.9,"top_p":0.95,"seed":42"#
        let whole = try server.post("/v1/chat/completions", request + "}")
        #expect(whole.status == 200, "\(whole)")
        #expect(whole.headers["content-type"] == "application/json")
        let reply = try JSONDecoder().decode(ChatReply.self, from: Data(whole.body))
        #expect(reply.object == "chat.completion" && reply.model == model && reply.id.hasPrefix("chatcmpl-"))
        let choice = try #require(reply.choices.first)
        #expect(choice.message.role == "assistant")
        #expect(["stop", "length"].contains(choice.finishReason))
        #expect(reply.usage.completionTokens > 0 && reply.usage.promptTokens > 0)
        #expect(reply.usage.totalTokens == reply.usage.promptTokens + reply.usage.completionTokens)

        let (head, streamed) = try server.stream("/v1/chat/completions", request + #","stream":true}"#)
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream")
        #expect(streamed.done, "the stream ends with data: [DONE]")
        #expect(streamed.role == "assistant")
        #expect(streamed.text == choice.message.content, "same seed, same text streamed or not")
        #expect(streamed.finishReason == choice.finishReason)
        #expect(streamed.usage == nil, "usage only with stream_options.include_usage")
    }

    @Test(arguments: models)
    func textCompletionStreamedEqualsUnstreamedAndReportsUsageWhenAsked(model: String) throws {
        let server = try Self.server()
        let request = #"{"model":"\#(model)","prompt":"Once upon a time","max_tokens":16,"temperature":0"#
        let whole = try server.post("/v1/completions", request + "}")
        #expect(whole.status == 200, "\(whole)")
        let reply = try JSONDecoder().decode(TextReply.self, from: Data(whole.body))
        #expect(reply.object == "text_completion" && reply.id.hasPrefix("cmpl-"))
        let choice = try #require(reply.choices.first)
        #expect(choice.finishReason == "length" || choice.finishReason == "stop")
        #expect(reply.usage.completionTokens <= 16 && reply.usage.completionTokens > 0)

        let (_, streamed) = try server.stream("/v1/completions", request + #","stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(streamed.done)
        #expect(streamed.text == choice.text)
        #expect(streamed.finishReason == choice.finishReason)
        #expect(streamed.usage == ["prompt_tokens": reply.usage.promptTokens, "completion_tokens": reply.usage.completionTokens,
                                   "total_tokens": reply.usage.totalTokens])
    }

    /// stories260K's reference continuation of "Once upon a time" (greedy, float32) starts as the 4-bit model's does.
    @Test func greedyCompletionFollowsTheModel() throws {
        let server = try Self.server()
        let whole = try server.post("/v1/completions", #"{"model":"stories","prompt":"Once upon a time","max_tokens":8,"temperature":0}"#)
        let reply = try JSONDecoder().decode(TextReply.self, from: Data(whole.body))
        #expect(reply.choices.first?.text.hasPrefix(", there was a little") == true, "\(whole)")
    }

    @Test func stopSequencesEndTheReplyWithFinishReasonStop() throws {
        let server = try Self.server()
        let greedy = #"{"model":"stories","prompt":"Once upon a time","max_tokens":30,"temperature":0"#
        let free = try JSONDecoder().decode(TextReply.self, from: Data(try server.post("/v1/completions", greedy + "}").body))
        let text = try #require(free.choices.first?.text)
        let stop = String(text.split(separator: " ")[2])
        let stopped = try server.post("/v1/completions", greedy + #","stop":["\#(stop)","zzz"]}"#)
        let reply = try JSONDecoder().decode(TextReply.self, from: Data(stopped.body))
        #expect(reply.choices.first?.finishReason == "stop")
        #expect(reply.choices.first.map { !$0.text.contains(stop) && text.hasPrefix($0.text) } == true, "\(stopped)")
    }

    @Test func modelsHealthAndMetricsDescribeTheServer() throws {
        let server = try Self.server()
        let models = try server.get("/v1/models")
        #expect(models.status == 200)
        #expect(models.text.contains(#""object":"list""#) && models.text.contains(#""id":"stories""#) && models.text.contains(#""id":"lfm2""#))

        let before = try server.health()
        #expect(before.status == "ok" && before.budgetBytes == 512 << 20)
        #expect(before.models.map(\.state) == ["unloaded", "unloaded"], "lazy: nothing loaded before a request")
        #expect(before.rssBytes > 0 && before.peakRssBytes >= before.rssBytes)
        _ = try server.post("/v1/completions", #"{"model":"stories","prompt":"Once","max_tokens":4}"#)
        let after = try server.health()
        #expect(after.model("stories")?.state == "loaded" && after.model("lfm2")?.state == "unloaded")
        #expect((after.model("stories")?.poolBytes ?? 0) > 0 && (after.model("stories")?.kvBytes ?? 0) > 0)

        let metrics = try server.get("/metrics")
        #expect(metrics.status == 200 && metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        for name in ["wstream_requests_total{route=\"/v1/completions\",status=\"200\"} 1", "wstream_prompt_tokens_total{model=\"stories\"}",
                     "wstream_completion_tokens_total{model=\"stories\"} 4", "wstream_time_to_first_token_seconds_bucket",
                     "wstream_decode_speed_tokens_per_second_bucket", "wstream_resident_bytes", "wstream_peak_resident_bytes",
                     "wstream_budget_bytes 536870912", "wstream_pool_bytes{model=\"stories\"}", "wstream_streaming_hits_total",
                     "wstream_streaming_misses_total", "wstream_queue_depth{model=\"lfm2\"} 0", "wstream_active_sequences",
                     "wstream_model_loads_total{model=\"stories\"} 1"] {
            #expect(metrics.text.contains(name), "/metrics lacks \(name):\n\(metrics.text)")
        }
    }

    @Test func theAPIKeyIsRequiredEverywhereButHealth() throws {
        let server = try Self.server(["--api-key", "s3cret"])
        #expect(try server.get("/health").status == 200)
        let missing = try server.get("/v1/models")
        #expect(missing.status == 401 && missing.text.contains("invalid_api_key"), "\(missing)")
        #expect(try server.get("/v1/models", headers: ["Authorization": "Bearer s3cre"]).status == 401)
        #expect(try server.get("/metrics", headers: ["Authorization": "Bearer s3cret!"]).status == 401)
        #expect(try server.post("/v1/completions", #"{"model":"stories","prompt":"Hi","max_tokens":2}"#).status == 401)
        #expect(try server.get("/v1/models", headers: ["Authorization": "Bearer s3cret"]).status == 200)
    }
}

/// `chat.completion` as tests read it.
struct ChatReply: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            var role: String
            var content: String
        }
        var message: Message
        var finishReason: String

        enum CodingKeys: String, CodingKey {
            case message
            case finishReason = "finish_reason"
        }
    }
    var id: String
    var object: String
    var model: String
    var choices: [Choice]
    var usage: UsageFigures
}

/// `text_completion` as tests read it.
struct TextReply: Decodable {
    struct Choice: Decodable {
        var text: String
        var finishReason: String

        enum CodingKeys: String, CodingKey {
            case text
            case finishReason = "finish_reason"
        }
    }
    var id: String
    var object: String
    var choices: [Choice]
    var usage: UsageFigures
}

struct UsageFigures: Decodable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
}
