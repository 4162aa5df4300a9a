import Hummingbird
import Logging

/// The engine's HTTP routes — `/v1/chat/completions`, `/v1/completions`, `/v1/models`, `/health`,
/// `/metrics` — with their middleware (one log line per request, OpenAI-style errors, the API key), ready to
/// mount into any Hummingbird router or router group.
///
/// ```swift
/// let routes = InferenceRoutes(registry: registry, metrics: ServerMetrics(), logger: logger)
/// routes.add(to: router.group())   // a group keeps the middleware off the host's other routes
/// ```
public struct InferenceRoutes: Sendable {
    public let registry: ModelRegistry
    public let metrics: ServerMetrics
    public let apiKey: String?
    public let maxRequestBytes: Int
    public let logger: Logger

    /// The paths these routes serve, counted by name in the metrics.
    public static let paths: Set<String> = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"]

    /// - Parameters:
    ///   - registry: the models the routes serve.
    ///   - metrics: where requests and generations are counted, and what `/metrics` shows.
    ///   - apiKey: when set, every route but /health requires `Authorization: Bearer <apiKey>`.
    ///   - maxRequestBytes: the largest request body accepted (413 beyond).
    ///   - logger: receives one line per request.
    public init(registry: ModelRegistry, metrics: ServerMetrics, apiKey: String? = nil, maxRequestBytes: Int = 1 << 20, logger: Logger) {
        self.registry = registry
        self.metrics = metrics
        self.apiKey = apiKey
        self.maxRequestBytes = maxRequestBytes
        self.logger = logger
    }

    /// Adds the middleware, then the routes, to `router`.
    public func add<Context: RequestContext>(to router: some RouterMethods<Context>) {
        _ = router.add(middleware: RequestLogMiddleware<Context>(logger: logger, metrics: metrics, knownRoutes: Self.paths))
        if let apiKey { _ = router.add(middleware: APIKeyMiddleware<Context>(key: apiKey)) }
        CompletionsController<Context>(registry: registry, metrics: metrics, maxRequestBytes: maxRequestBytes).addRoutes(to: router)
        ModelsController<Context>(registry: registry).addRoutes(to: router)
        HealthController<Context>(registry: registry).addRoutes(to: router)
        MetricsController<Context>(registry: registry, metrics: metrics).addRoutes(to: router)
    }
}
