import Synchronization
import WStream

/// One model the server offers: its id, its engine, its admission gate and when it was last used.
public final class ServedModel: Sendable {
    public let id: String
    public let engine: Engine
    public let gate: SlotGate
    private let lastUsed = Mutex(ContinuousClock.now)

    init(id: String, engine: Engine, gate: SlotGate) {
        self.id = id
        self.engine = engine
        self.gate = gate
    }

    /// What the allowance planner needs to know about this model.
    var need: AllowancePlan.Need {
        AllowancePlan.Need(id: id, minimum: engine.minimumBytes, fullyResident: engine.fullyResidentBytes)
    }

    /// Marks the model as used now (a request ended).
    func touch() { lastUsed.withLock { $0 = .now } }

    /// Seconds since a request last ended, or 0 while one holds or waits for a slot.
    var idleSeconds: Double {
        guard gate.isIdle else { return 0 }
        let elapsed = ContinuousClock.now - lastUsed.withLock { $0 }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// The model's line in /health and /metrics.
    var status: ModelStatus {
        let memory = engine.memory
        return ModelStatus(id: id, state: memory.state, poolBytes: memory.poolBytes, kvBytes: memory.kvBytes,
                           allowanceBytes: memory.allowanceBytes, idleSeconds: idleSeconds, active: gate.inFlight, waiting: gate.waiting)
    }
}

/// A model's state as /health reports it.
public struct ModelStatus: Sendable, Equatable {
    public var id: String
    public var state: LoadState
    public var poolBytes: Int
    public var kvBytes: Int
    public var allowanceBytes: Int?
    public var idleSeconds: Double
    /// Requests holding a slot.
    public var active: Int
    /// Requests waiting for one.
    public var waiting: Int
}

/// The process's memory as /health and /metrics report it, read from /proc at that moment.
public struct ProcessMemoryReport: Sendable, Equatable {
    public var residentBytes: Int
    /// The peak since start, across the resets the engines make before planning.
    public var peakResidentBytes: Int
    public var budgetBytes: Int?

    static func read(budget: Int?) -> ProcessMemoryReport {
        ProcessMemoryReport(residentBytes: ResidentMemory.read().current, peakResidentBytes: ResidentMemory.read().peak, budgetBytes: budget)
    }
}
