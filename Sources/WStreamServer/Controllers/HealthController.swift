import FoundationEssentials
import Hummingbird
import WStream

/// `GET /health`: 200 with the process's memory read from /proc now, the budget, and each model's state.
struct HealthController<Context: RequestContext>: Sendable {
    let registry: ModelRegistry

    struct Body: Encodable {
        struct Model: Encodable {
            var id: String
            var state: String
            var poolBytes: Int
            var kvBytes: Int
            var allowanceBytes: Int?
            var minimumBytes: Int
            var fullyResidentBytes: Int
            var idleSeconds: Double
            var active: Int
            var queued: Int

            enum CodingKeys: String, CodingKey {
                case id, state, active, queued
                case poolBytes = "pool_bytes"
                case kvBytes = "kv_bytes"
                case allowanceBytes = "allowance_bytes"
                case minimumBytes = "minimum_bytes"
                case fullyResidentBytes = "fully_resident_bytes"
                case idleSeconds = "idle_seconds"
            }
        }

        var status = "ok"
        var rssBytes: Int
        var peakRssBytes: Int
        var budgetBytes: Int?
        var baselineBytes: Int
        var reserveBytes: Int
        var availableBytes: Int?
        var models: [Model]

        enum CodingKeys: String, CodingKey {
            case status, models
            case rssBytes = "rss_bytes"
            case peakRssBytes = "peak_rss_bytes"
            case budgetBytes = "budget_bytes"
            case baselineBytes = "baseline_bytes"
            case reserveBytes = "reserve_bytes"
            case availableBytes = "available_bytes"
        }
    }

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/health") { _, _ -> Response in
            let memory = ProcessMemoryReport.read(budget: registry.budgetBytes)
            let models = zip(registry.models, registry.statuses).map { model, status in
                Body.Model(id: status.id, state: status.state.rawValue, poolBytes: status.poolBytes, kvBytes: status.kvBytes,
                           allowanceBytes: status.allowanceBytes, minimumBytes: model.engine.minimumBytes,
                           fullyResidentBytes: model.engine.fullyResidentBytes, idleSeconds: (status.idleSeconds * 10).rounded() / 10,
                           active: status.active, queued: status.waiting)
            }
            let body = Body(rssBytes: memory.residentBytes, peakRssBytes: memory.peakResidentBytes, budgetBytes: memory.budgetBytes,
                            baselineBytes: registry.baselineBytes, reserveBytes: registry.reserveBytes,
                            availableBytes: registry.availableBytes, models: models)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body))))
        }
    }
}
