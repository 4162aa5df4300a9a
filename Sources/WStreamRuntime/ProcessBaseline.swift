/// The process's own share of the working set: what it holds now, and what it will grow by during a run
/// without any component asking for it.
public enum ProcessBaseline {
    /// Growth no component allocates explicitly: thread stacks touched by threads started later (compute workers,
    /// the streamer's queue, the runtime's own), allocator slack, and the Swift runtime's caches.
    public static let growthAllowance = 6 << 20

    /// The process as `/proc/self/status` reports it now: resident, and mapped.
    public static func measure() -> [WorkingSet.Part] {
        let now = ResidentMemory.read()
        return [WorkingSet.Part("process", bytes: now.current, addressSpace: now.addressSpace)]
    }

    /// What the process grows by when a component starts `threadsToStart` threads: `growthAllowance` resident, and
    /// their stacks mapped.
    public static func growth(threadsToStart: Int) -> WorkingSet.Part {
        WorkingSet.Part("runtime growth", bytes: growthAllowance,
                        addressSpace: growthAllowance + threadsToStart * ProcessLimits.threadStackBytes)
    }
}
