/// The process's own share of the working set: what it holds now, and what it will grow by during a run
/// without any component asking for it.
public enum ProcessBaseline {
    /// Growth no component allocates explicitly: thread stacks touched by threads started later (compute workers,
    /// the streamer's decode queue, the runtime's own), allocator slack, and the Swift runtime's caches.
    public static let growthAllowance = 6 << 20

    /// The process as `/proc/self/status` reports it now, and `growthAllowance`.
    public static func measure() -> [WorkingSet.Part] {
        [WorkingSet.Part("process", bytes: ResidentMemory.read().current), WorkingSet.Part("runtime growth", bytes: growthAllowance)]
    }
}
