import Hummingbird
import Logging
import ServiceLifecycle
import WStream

/// `wstream serve`: one instance per port and state directory, the models under one budget, the routes, an
/// idle monitor, and a graceful shutdown on SIGTERM or SIGINT.
public struct InferenceServer {
    public let configuration: ServerConfiguration
    public let logger: Logger

    /// - Parameters:
    ///   - configuration: models, address, budget and limits.
    ///   - logger: receives start, load and unload events and one line per request.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The lock file in the state directory.
    public var stateLockPath: String { configuration.stateDirectory + "/wstream.lock" }

    /// The lock file for the port, shared by every state directory (none for port 0, which picks a free one).
    public var portLockPath: String? { configuration.port == 0 ? nil : "/tmp/wstream-port-\(configuration.port).lock" }

    /// Takes the locks, opens the models, listens, and runs until SIGTERM or SIGINT; in-flight requests then
    /// get `configuration.gracePeriod` to finish before they are cancelled.
    /// - Parameter onListening: called with the bound host and port once the server accepts connections.
    /// - Throws: `ServerError` when another instance runs or a model cannot fit; errors binding the address.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        let stateLock = try InstanceLock(path: stateLockPath)
        let portLock = try portLockPath.map { try InstanceLock(path: $0) }
        defer {
            portLock?.release()
            stateLock.release()
        }
        let metrics = ServerMetrics()
        let registry = try ModelRegistry(configuration: configuration, metrics: metrics, logger: logger)
        let router = Router()
        InferenceRoutes(registry: registry, metrics: metrics, apiKey: configuration.apiKey,
                        maxRequestBytes: configuration.maxRequestBytes, logger: logger).add(to: router)
        let host = configuration.host
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "wstream"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        var services: [any Service] = [application]
        if let timeout = configuration.idleTimeout { services.append(IdleMonitor(registry: registry, timeout: timeout)) }
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.gracePeriod
        logger.info("models opened", metadata: [
            "models": "\(registry.models.map(\.id).joined(separator: ","))", "baseline_bytes": "\(registry.baselineBytes)",
            "reserve_bytes": "\(registry.reserveBytes)", "budget_bytes": "\(registry.budgetBytes.map(String.init) ?? "none")",
        ])
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("stopped")
    }
}
