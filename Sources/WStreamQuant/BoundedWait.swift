import Glibc

/// Polls a condition for a bounded time, first spinning and then yielding the core (see
/// `ComputePool.WaitPolicy`); the caller sleeps properly when it gives up.
struct BoundedWait {
    let policy: ComputePool.WaitPolicy

    init(_ policy: ComputePool.WaitPolicy) { self.policy = policy }

    /// Polls `condition` until it holds (true) or the policy's time is up (false).
    @inline(__always)
    func until(_ condition: () -> Bool) -> Bool {
        if condition() { return true }
        let start = Self.nanoseconds()
        while true {
            for _ in 0..<Self.pollsPerClockRead {
                if condition() { return true }
            }
            let elapsed = Self.nanoseconds() - start
            if elapsed >= policy.yieldNanoseconds { return false }
            if elapsed >= policy.spinNanoseconds { sched_yield() }
        }
    }

    /// Polls between two readings of the clock: a reading costs about as much as a few polls.
    static let pollsPerClockRead = 16

    @inline(__always)
    static func nanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
}
