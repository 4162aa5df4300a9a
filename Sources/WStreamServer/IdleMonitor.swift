import ServiceLifecycle

/// Unloads models that have had no request for `timeout`, checking four times per timeout (at most every
/// 5 s, at least every 100 ms); stops with the server. Add it to an application's services to get idle
/// unloading when embedding the routes.
public struct IdleMonitor: Service {
    public let registry: ModelRegistry
    public let timeout: Duration

    /// - Parameters:
    ///   - registry: the models to watch.
    ///   - timeout: how long a model may go without requests before it is unloaded.
    public init(registry: ModelRegistry, timeout: Duration) {
        self.registry = registry
        self.timeout = timeout
    }

    /// Checks until the service group shuts down.
    public func run() async throws {
        let interval = min(max(timeout / 4, .milliseconds(100)), .seconds(5))
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await registry.unloadIdle(olderThan: timeout)
            }
        }
    }
}
