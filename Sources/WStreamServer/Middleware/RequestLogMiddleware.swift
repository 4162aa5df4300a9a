import Hummingbird
import Logging

/// Counts each request in the metrics by route and status as soon as its status is known (before the client
/// can see the response, so a scrape that follows it always includes it), logs one line per request when its
/// response has been written (a streamed one included), and turns every error into an OpenAI-style body.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let metrics: ServerMetrics
    /// Paths counted under their own name; anything else is counted as `other`, so that probing clients
    /// cannot grow the metrics without bound.
    let knownRoutes: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let record = RequestRecord()
        // Routes mounted under a prefix (an embedding app's group) count under their own name.
        let route = knownRoutes.first { request.uri.path.hasSuffix($0) } ?? "other"
        var response: Response
        do {
            response = try await RequestRecord.$current.withValue(record) { try await next(request, context) }
        } catch {
            let failure = Self.serverError(for: error)
            metrics.countRequest(route: route, status: Int(failure.status.code))
            finish(record, request: request, context: context, status: Int(failure.status.code), error: failure.description)
            throw failure
        }
        let status = Int(response.status.code)
        metrics.countRequest(route: route, status: status)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { [self] writer in
            defer { finish(record, request: request, context: context, status: status, error: nil) }
            try await body.write(writer)
        }
        return response
    }

    /// The OpenAI-style error for anything a handler or the framework threw.
    static func serverError(for error: any Error) -> ServerError {
        switch error {
        case let error as ServerError: error
        case let error as HTTPError: .http(status: Int(error.status.code), message: error.body ?? error.status.reasonPhrase)
        case is CancellationError: .http(status: 499, message: "the client closed the connection")
        default: .http(status: 500, message: "\(error)")
        }
    }

    /// Logs the request's line once its response is written or has failed.
    private func finish(_ record: RequestRecord, request: Request, context: Context, status: Int, error: String?) {
        let figures = record.snapshot
        var metadata: Logger.Metadata = [
            "id": "\(context.id)", "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
            "duration_ms": "\(Int(record.elapsed * 1000))",
        ]
        if let model = figures.model { metadata["model"] = "\(model)" }
        if let tokens = figures.promptTokens { metadata["tokens_in"] = "\(tokens)" }
        if let tokens = figures.completionTokens { metadata["tokens_out"] = "\(tokens)" }
        if let seconds = figures.timeToFirstToken { metadata["ttft_ms"] = "\(Int(seconds * 1000))" }
        if let speed = figures.tokensPerSecond { metadata["tok_s"] = "\((speed * 10).rounded() / 10)" }
        if let reason = figures.finishReason { metadata["finish"] = "\(reason)" }
        if let error = error ?? figures.streamError { metadata["error"] = "\(error)" }
        logger.info("request", metadata: metadata)
    }
}
