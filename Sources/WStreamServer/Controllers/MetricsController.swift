import Hummingbird

/// `GET /metrics`: the Prometheus text exposition.
struct MetricsController<Context: RequestContext>: Sendable {
    let registry: ModelRegistry
    let metrics: ServerMetrics

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/metrics") { _, _ -> Response in
            let text = metrics.exposition(memory: .read(budget: registry.budgetBytes), models: registry.statuses)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
