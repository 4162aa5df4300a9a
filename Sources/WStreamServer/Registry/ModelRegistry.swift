import Logging
import WStream

/// The models a server offers under one budget: loaded on first request, unloaded when idle or to make room,
/// and re-planned as others come and go so that together they stay within the budget.
///
/// The budget bounds the whole process. At start the registry measures what the process holds with every
/// model opened but none loaded (code, runtime, tokenizers, the HTTP server's threads: the *baseline*) and
/// keeps `ServerConfiguration.connectionReserveBytes` aside for connections; the rest is what models may
/// use together, divided by `AllowancePlan`. A model that cannot fit even alone is refused at start.
public actor ModelRegistry {
    public let models: [ServedModel]
    private let byId: [String: ServedModel]
    public let budgetBytes: Int?
    public let baselineBytes: Int
    public let reserveBytes: Int
    private let metrics: ServerMetrics
    private let logger: Logger
    /// Loads, unloads and re-plans happen one at a time; requests for a loaded model never wait for this.
    private var planning = false
    private var planningWaiters: [CheckedContinuation<Void, Never>] = []

    /// Opens every model (cheap: no pool) and checks that each fits the budget alone.
    /// - Throws: `ServerError.modelCannotFit` naming the model and its minimum, and any error opening a file.
    public init(configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger) throws {
        var engineConfiguration = Engine.Configuration()
        engineConfiguration.contextLength = configuration.contextLength
        engineConfiguration.parallel = configuration.parallel
        engineConfiguration.threads = configuration.threads
        var seen: Set<String> = []
        models = try configuration.models.map { source in
            guard seen.insert(source.id).inserted else { throw ServerError.invalidModelArgument("\(source.id)=\(source.path)", detail: "the id '\(source.id)' is given twice") }
            return ServedModel(id: source.id, engine: try Engine(path: source.path, configuration: engineConfiguration),
                               gate: SlotGate(slots: configuration.parallel, queueLength: configuration.queueLength))
        }
        byId = Dictionary(uniqueKeysWithValues: models.map { ($0.id, $0) })
        let process = ResidentMemory.read()
        baselineBytes = process.current
        // Under an address-space limit the budget must leave room for what the process maps beyond its resident
        // set (library pages never read, untouched thread stacks, the models' threads' stacks, and the stacks of the
        // HTTP server's threads started later, `serverThreads` at most); without a budget, the limit sets it.
        if let limit = ProcessLimits.addressSpaceLimit {
            let overhead = process.addressSpace - process.current + models.reduce(0) { $0 + $1.engine.addressSpaceOverhead }
                + Self.serverThreads * ProcessLimits.threadStackBytes
            let budget = configuration.budget?.bytes ?? limit - overhead
            guard budget + overhead <= limit else {
                throw RuntimeError.addressSpaceLimitTooSmall(
                    limit: limit, budget: budget, overhead: overhead,
                    minimum: baselineBytes + ServerConfiguration.connectionReserveBytes + (models.map(\.engine.minimumBytes).max() ?? 0))
            }
            budgetBytes = budget
        } else {
            budgetBytes = configuration.budget?.bytes
        }
        reserveBytes = ServerConfiguration.connectionReserveBytes
        self.metrics = metrics
        self.logger = logger
        if let available = availableBytes {
            for (model, source) in zip(models, configuration.models) where model.engine.minimumBytes > available {
                throw ServerError.modelCannotFit(id: model.id, path: source.path, minimum: model.engine.minimumBytes, available: available,
                                                 baseline: baselineBytes, reserve: reserveBytes)
            }
        }
    }

    /// Threads the HTTP server starts after the registry is made (event loops, the blocking pool, lifecycle), at most.
    static let serverThreads = 8

    /// What the models may use together: the budget less the baseline and the reserve (nil: no budget).
    public nonisolated var availableBytes: Int? {
        budgetBytes.map { $0 - baselineBytes - reserveBytes }
    }

    /// The model with this id.
    /// - Throws: `ServerError.unknownModel`.
    public nonisolated func model(_ id: String) throws -> ServedModel {
        guard let model = byId[id] else { throw ServerError.unknownModel(id) }
        return model
    }

    /// Every model's state, for /health and /metrics.
    public nonisolated var statuses: [ModelStatus] { models.map(\.status) }

    /// A slot in `model` with the model loaded: waits in the model's queue, then loads it if needed.
    /// - Throws: `ServerError.overloaded` when the queue is full, `ServerError.noRoom` when the models serving
    ///   requests leave too little memory, `ServerError.modelFailure` when loading fails, `CancellationError`.
    public nonisolated func lease(_ model: ServedModel) async throws -> ModelLease {
        do {
            try await model.gate.enter()
        } catch is SlotGate.Full {
            throw ServerError.overloaded(model: model.id, retryAfterSeconds: 1)
        }
        let lease = ModelLease(model: model)
        try await ensureLoaded(model)
        return lease
    }

    /// Unloads every loaded model that has had no request for `timeout`, then lets the others grow.
    public func unloadIdle(olderThan timeout: Duration) async {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        guard models.contains(where: { $0.engine.memory.state == .loaded && $0.idleSeconds >= seconds }) else { return }
        await beginPlanning()
        defer { endPlanning() }
        var unloaded = false
        for model in models where model.engine.memory.state == .loaded && model.idleSeconds >= seconds {
            await unload(model, reason: "idle for \(Int(seconds)) s")
            unloaded = true
        }
        if unloaded { await rebalance() }
    }

    // MARK: - Planning

    /// Loads `model` unless it is loaded and no load, unload or re-plan is under way (an unload only ever
    /// happens while planning, and never to a model whose gate holds a request, as the caller's does).
    private func ensureLoaded(_ model: ServedModel) async throws {
        if !planning && model.engine.memory.state == .loaded { return }
        await beginPlanning()
        defer { endPlanning() }
        guard model.engine.memory.state != .loaded else { return }
        guard let available = availableBytes else {
            try await load(model, allowance: model.engine.fullyResidentBytes)
            return
        }
        var loaded = models.filter { $0 !== model && $0.engine.memory.state == .loaded }
        func minimums(_ set: [ServedModel]) -> Int { set.reduce(model.engine.minimumBytes) { $0 + $1.engine.minimumBytes } }
        let busy = loaded.filter { !$0.gate.isIdle }
        guard minimums(busy) <= available else {
            throw ServerError.noRoom(model: model.id, needed: model.engine.minimumBytes, free: available - minimums(busy) + model.engine.minimumBytes,
                                     busy: busy.map(\.id), retryAfterSeconds: 5)
        }
        // Make room: unload models no request holds or waits for, least recently used first.
        while minimums(loaded) > available, let idle = loaded.filter({ $0.gate.isIdle }).max(by: { $0.idleSeconds < $1.idleSeconds }) {
            await unload(idle, reason: "making room for \(model.id)")
            loaded.removeAll { $0 === idle }
        }
        guard let plan = AllowancePlan.split(available, among: (loaded + [model]).map(\.need)) else {
            // A model became busy while others were unloaded.
            throw ServerError.noRoom(model: model.id, needed: model.engine.minimumBytes, free: available - minimums(loaded) + model.engine.minimumBytes,
                                     busy: loaded.map(\.id), retryAfterSeconds: 5)
        }
        // Shrink the others first, so that the new model's memory is free before it is planned.
        for other in loaded {
            guard let allowance = plan.allowances[other.id], allowance < other.engine.memory.allowanceBytes ?? .max else { continue }
            try await replan(other, allowance: allowance)
        }
        try await load(model, allowance: plan.allowances[model.id]!)
        Task { await self.rebalanceWhenFree() }
    }

    /// Gives loaded models the allowances the plan gives them now (after others left); only growth is left to
    /// do here, since shrinking happens before a load.
    private func rebalance() async {
        guard let available = availableBytes else { return }
        let loaded = models.filter { $0.engine.memory.state == .loaded }
        guard let plan = AllowancePlan.split(available, among: loaded.map(\.need)) else { return }
        for model in loaded {
            guard let allowance = plan.allowances[model.id], allowance > (model.engine.memory.allowanceBytes ?? .max) else { continue }
            try? await replan(model, allowance: allowance)
        }
    }

    private func rebalanceWhenFree() async {
        await beginPlanning()
        defer { endPlanning() }
        await rebalance()
    }

    private func load(_ model: ServedModel, allowance: Int) async throws {
        do {
            try await model.engine.load(allowance: allowance)
        } catch {
            logger.error("loading failed", metadata: ["model": "\(model.id)", "error": "\(error)"])
            throw ServerError.modelFailure(model: model.id, detail: "\(error)")
        }
        metrics.countLoad(model: model.id, unloaded: false)
        let memory = model.engine.memory
        logger.info("model loaded", metadata: ["model": "\(model.id)", "allowance_bytes": "\(allowance)", "pool_bytes": "\(memory.poolBytes)",
                                               "kv_bytes": "\(memory.kvBytes)", "rss_bytes": "\(ResidentMemory.read().current)"])
    }

    private func replan(_ model: ServedModel, allowance: Int) async throws {
        let before = model.engine.memory.allowanceBytes ?? 0
        do {
            try await model.engine.load(allowance: allowance)
        } catch {
            metrics.countLoad(model: model.id, unloaded: true)
            throw ServerError.modelFailure(model: model.id, detail: "\(error)")
        }
        logger.info("model re-planned", metadata: ["model": "\(model.id)", "from_bytes": "\(before)", "to_bytes": "\(allowance)",
                                                   "pool_bytes": "\(model.engine.memory.poolBytes)"])
    }

    private func unload(_ model: ServedModel, reason: String) async {
        let before = ResidentMemory.read().current
        await model.engine.unload()
        metrics.countLoad(model: model.id, unloaded: true)
        logger.info("model unloaded", metadata: ["model": "\(model.id)", "reason": "\(reason)",
                                                 "rss_before_bytes": "\(before)", "rss_after_bytes": "\(ResidentMemory.read().current)"])
    }

    private func beginPlanning() async {
        if !planning {
            planning = true
            return
        }
        await withCheckedContinuation { planningWaiters.append($0) }
    }

    private func endPlanning() {
        if planningWaiters.isEmpty {
            planning = false
        } else {
            planningWaiters.removeFirst().resume()
        }
    }
}
