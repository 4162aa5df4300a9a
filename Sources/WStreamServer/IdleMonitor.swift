import ServiceLifecycle

/// Unloads models that have had no request for `timeout`, checking four times per timeout (at most every
/// 5 s, at least every 100 ms); stops with the server.
struct IdleMonitor: Service {
    let registry: ModelRegistry
    let timeout: Duration

    func run() async throws {
        let interval = min(max(timeout / 4, .milliseconds(100)), .seconds(5))
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await registry.unloadIdle(olderThan: timeout)
            }
        }
    }
}
