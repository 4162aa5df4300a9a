import Hummingbird
import Logging
import WStream
import WStreamServer

/// An application with routes of its own that mounts wstream's OpenAI-compatible routes under `/ai`:
///
///     swift run EmbeddedServer model.wst 700M
///     curl localhost:8081/
///     curl localhost:8081/ai/v1/chat/completions -d '{"model":"local","messages":[{"role":"user","content":"Hi"}]}'
///     curl localhost:8081/ai/health
@main
struct EmbeddedServer {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            print("usage: EmbeddedServer MODEL.wst [BUDGET, e.g. 700M]")
            return
        }
        let logger = Logger(label: "embedded-server")
        var configuration = ServerConfiguration(models: [.init(id: "local", path: arguments[1])])
        configuration.budget = try MemoryBudget(parsing: arguments.count > 2 ? arguments[2] : "1G")
        let metrics = ServerMetrics()
        // Opens the model (no pool yet) and checks it fits the budget; it loads on its first request.
        let registry = try ModelRegistry(configuration: configuration, metrics: metrics, logger: logger)

        let router = Router()
        router.get("/") { _, _ in "An app with a local model under /ai\n" }
        // A group keeps wstream's middleware (request log, OpenAI errors) off the app's own routes.
        InferenceRoutes(registry: registry, metrics: metrics, logger: logger).add(to: router.group("/ai"))

        var application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8081)), logger: logger)
        application.addServices(IdleMonitor(registry: registry, timeout: .seconds(300)))
        try await application.runService()
    }
}
