import Prometheus
import WStream

/// The server's Prometheus metrics (`GET /metrics`), all named `wstream_…`.
///
/// Counters and histograms are updated as requests and loads happen; memory and queue gauges are set from
/// their sources when the metrics are read, so a scrape always shows the present.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()

    /// Seconds from a request's arrival to its first generated text.
    static let timeToFirstTokenBuckets: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Decode speed of one request.
    static let tokensPerSecondBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000]

    /// An empty registry of metrics; they appear as they are first recorded.
    public init() {}

    /// `wstream_<metric>_<unit>` with its help text.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "wstream", metricName: metric, unitName: unit, helpText: help)
    }

    /// Counts a request by route and status, once its status is known.
    func countRequest(route: String, status: Int) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "HTTP requests by route and status"),
                             labels: [("route", route), ("status", "\(status)")]).increment()
    }

    /// Records a finished generation of `model`.
    func recordGeneration(model: String, statistics: GenerationStatistics, timeToFirstToken: Double?) {
        let labels = [("model", model)]
        registry.makeCounter(descriptor: Self.name("prompt_tokens", "total", "Prompt tokens read"), labels: labels)
            .increment(by: Int64(statistics.promptTokens))
        registry.makeCounter(descriptor: Self.name("completion_tokens", "total", "Tokens generated"), labels: labels)
            .increment(by: Int64(statistics.generatedTokens))
        registry.makeCounter(descriptor: Self.name("streaming_hits", "total", "Units found resident in the pool"), labels: labels)
            .increment(by: Int64(statistics.hits))
        registry.makeCounter(descriptor: Self.name("streaming_misses", "total", "Units decoded from the file"), labels: labels)
            .increment(by: Int64(statistics.misses))
        if let timeToFirstToken {
            registry.makeValueHistogram(descriptor: Self.name("time_to_first_token", "seconds", "Seconds from a request's arrival to its first text"),
                                        labels: labels, buckets: Self.timeToFirstTokenBuckets).record(timeToFirstToken)
        }
        if statistics.decodeSteps > 0 {
            registry.makeValueHistogram(descriptor: Self.name("decode_speed", "tokens_per_second", "Decode speed of each request"),
                                        labels: labels, buckets: Self.tokensPerSecondBuckets).record(statistics.decodeTokensPerSecond)
        }
    }

    /// Counts a model load or unload.
    func countLoad(model: String, unloaded: Bool) {
        let descriptor = unloaded ? Self.name("model_unloads", "total", "Models unloaded") : Self.name("model_loads", "total", "Models loaded")
        registry.makeCounter(descriptor: descriptor, labels: [("model", model)]).increment()
    }

    /// The Prometheus text exposition, with the gauges set from `memory` and `models` first.
    func exposition(memory: ProcessMemoryReport, models: [ModelStatus]) -> String {
        registry.makeGauge(descriptor: Self.name("resident", "bytes", "Resident set size of the server process (VmRSS)")).set(Double(memory.residentBytes))
        registry.makeGauge(descriptor: Self.name("peak_resident", "bytes", "Peak resident set size since start (VmHWM)")).set(Double(memory.peakResidentBytes))
        registry.makeGauge(descriptor: Self.name("budget", "bytes", "The --budget ceiling on peak RSS (0: none)")).set(Double(memory.budgetBytes ?? 0))
        for model in models {
            let labels = [("model", model.id)]
            registry.makeGauge(descriptor: Self.name("pool", "bytes", "Buffer pool of each model"), labels: labels).set(Double(model.poolBytes))
            registry.makeGauge(descriptor: Self.name("kv", "bytes", "KV cache of each model"), labels: labels).set(Double(model.kvBytes))
            registry.makeGauge(descriptor: Self.name("queue", "depth", "Requests waiting for a slot"), labels: labels).set(Double(model.waiting))
            registry.makeGauge(descriptor: Self.name("active", "sequences", "Requests holding a slot"), labels: labels).set(Double(model.active))
            registry.makeGauge(descriptor: Self.name("model", "loaded", "1 when the model is loaded"), labels: labels).set(model.state == .loaded ? 1.0 : 0.0)
        }
        return registry.emitToString()
    }
}
