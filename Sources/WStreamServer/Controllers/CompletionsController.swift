#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Hummingbird
import NIOCore
import WStream

/// `POST /v1/chat/completions` and `POST /v1/completions`: validate, wait for a slot in the model, generate,
/// and answer as one JSON object or as server-sent events.
///
/// A client that disconnects cancels its request: while it waits or (unstreamed) generates, through the
/// request's inbound stream closing; while streaming, through the failed write of its next chunk. Either
/// way the generation stops at its next token and the slot is given back.
struct CompletionsController<Context: RequestContext>: Sendable {
    let registry: ModelRegistry
    let metrics: ServerMetrics
    let maxRequestBytes: Int

    func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/chat/completions") { request, _ in try await chat(request) }
        router.post("/v1/completions") { request, _ in try await complete(request) }
    }

    private func chat(_ request: Request) async throws -> Response {
        try await request.body.consumeWithCancellationOnInboundClose { body in
            let bytes = try await collect(body)
            let parsed = try RequestDecoder.decode(ChatCompletionRequest.self, from: bytes)
            let model = try registry.model(parsed.model)
            RequestRecord.current?.update { $0.model = model.id }
            try parsed.checkSupported()
            // The body once more as ordered JSON: templates print tools and tool calls with `tojson`, whose output
            // follows the client's key order (JSONDecoder keeps none).
            let input = try ChatInput(body: try TemplateValue(json: String(decoding: bytes, as: UTF8.self)), request: parsed)
            let ids: [Int]
            do {
                ids = try model.engine.promptIds(for: input.messages, tools: input.tools, variables: input.variables)
            } catch {
                throw ServerError.invalidParameter(param: "messages", message: "the model's chat template cannot render these messages: \(error)")
            }
            let options = try parsed.sampling.generationOptions(promptTokens: ids.count, contextLength: model.engine.contextLength, promptParam: "messages")
            return try await respond(.chat, model: model, promptIds: ids, options: options, stream: parsed.stream ?? false,
                                     includeUsage: parsed.streamOptions?.includeUsage ?? false)
        }
    }

    private func complete(_ request: Request) async throws -> Response {
        try await request.body.consumeWithCancellationOnInboundClose { body in
            let parsed = try RequestDecoder.decode(CompletionRequest.self, from: try await collect(body))
            let model = try registry.model(parsed.model)
            RequestRecord.current?.update { $0.model = model.id }
            try parsed.checkSupported()
            let ids: [Int]
            switch parsed.prompt {
            case .text(let text):
                ids = model.engine.encode(text)
            case .tokens(let tokens):
                let vocabulary = model.engine.modelConfig.vocabSize
                if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabulary }) {
                    throw ServerError.invalidParameter(param: "prompt", message: "token id \(bad) is outside the vocabulary of \(vocabulary)")
                }
                ids = tokens
            }
            guard !ids.isEmpty else { throw ServerError.invalidParameter(param: "prompt", message: "'prompt' is empty") }
            let options = try parsed.sampling.generationOptions(promptTokens: ids.count, contextLength: model.engine.contextLength, promptParam: "prompt")
            return try await respond(.text, model: model, promptIds: ids, options: options, stream: parsed.stream ?? false,
                                     includeUsage: parsed.streamOptions?.includeUsage ?? false)
        }
    }

    private func collect(_ body: RequestBody) async throws -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: maxRequestBytes)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ServerError.bodyTooLarge(limit: maxRequestBytes)
        }
    }

    private func respond(_ kind: CompletionKind, model: ServedModel, promptIds: [Int], options: GenerationOptions,
                         stream: Bool, includeUsage: Bool) async throws -> Response {
        let lease = try await registry.lease(model)
        let requestRecord = RequestRecord.current
        let template = CompletionObject(id: kind.idPrefix + Self.randomId(), kind: kind, chunk: stream, created: Int(time(nil)), model: model.id)
        guard stream else {
            defer { lease.release() }
            var text = ""
            var firstText: Double?
            var finished: GenerationResult?
            do {
                for try await event in model.engine.generate(promptIds: promptIds, options: options) {
                    switch event {
                    case .text(let piece):
                        if firstText == nil { firstText = requestRecord?.elapsed }
                        text += piece
                    case .finished(let result):
                        finished = result
                    }
                }
            } catch {
                throw Self.failure(error, model: model)
            }
            guard let result = finished else { throw CancellationError() }
            note(result, model: model, timeToFirstToken: firstText, in: requestRecord)
            var object = template
            object.text = text
            object.finishReason = result.statistics.stopReason.finishReason
            object.usage = Usage(result.statistics)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(object))))
        }
        return Response(status: .ok, headers: ServerSentEvents.headers, body: ResponseBody { writer in
            defer { lease.release() }
            var events = ServerSentEvents(writer: writer)
            var chunk = template
            chunk.usageKeyAlways = includeUsage
            if kind == .chat {
                var announcement = chunk
                announcement.announcesRole = true
                announcement.text = ""
                try await events.send(announcement)
            }
            var firstText: Double?
            var finished: GenerationResult?
            // The stream is local: leaving this closure (a write that fails because the client went away) drops
            // it, which cancels the generation. Errors of the generation itself become an error event.
            var generation = model.engine.generate(promptIds: promptIds, options: options).makeAsyncIterator()
            while true {
                let event: GenerationEvent?
                do {
                    event = try await generation.next()
                } catch {
                    let failure = Self.failure(error, model: model)
                    requestRecord?.update { $0.streamError = failure.description }
                    try await events.send(failure.body)
                    break
                }
                guard let event else { break }
                switch event {
                case .text(let piece):
                    if firstText == nil { firstText = requestRecord?.elapsed }
                    var piecesChunk = chunk
                    piecesChunk.text = piece
                    do {
                        try await events.send(piecesChunk)
                    } catch {
                        requestRecord?.update { $0.streamError = "the client went away; generation cancelled" }
                        throw error
                    }
                case .finished(let result):
                    finished = result
                }
            }
            if let result = finished {
                note(result, model: model, timeToFirstToken: firstText, in: requestRecord)
                var last = chunk
                last.finishReason = result.statistics.stopReason.finishReason
                try await events.send(last)
                if includeUsage {
                    var usage = chunk
                    usage.usage = Usage(result.statistics)
                    try await events.send(usage)
                }
            }
            try await events.finish()
        })
    }

    private func note(_ result: GenerationResult, model: ServedModel, timeToFirstToken: Double?, in record: RequestRecord?) {
        metrics.recordGeneration(model: model.id, statistics: result.statistics, timeToFirstToken: timeToFirstToken)
        record?.update {
            $0.promptTokens = result.statistics.promptTokens
            $0.completionTokens = result.statistics.generatedTokens
            $0.timeToFirstToken = timeToFirstToken
            // A single token has no decode pass of its own, hence no rate.
            $0.tokensPerSecond = result.statistics.decodeSteps > 0 ? result.statistics.decodeTokensPerSecond : nil
            $0.finishReason = result.statistics.stopReason.finishReason
        }
    }

    private static func failure(_ error: any Error, model: ServedModel) -> ServerError {
        (error as? ServerError) ?? .modelFailure(model: model.id, detail: "\(error)")
    }

    /// 24 hex digits.
    private static func randomId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in
            let hex = String(generator.next() as UInt32, radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined()
    }
}
