import Glibc
import Synchronization

/// A fixed set of worker threads for data-parallel loops (no thread is created per call).
///
/// `threadCount − 1` workers are started once; the calling thread is the last participant. A call publishes
/// its loop by starting a new generation; workers that finished recently are still spinning on it and join
/// within a microsecond or so, which matters because a decode step is hundreds of sub-millisecond products.
/// Workers that found nothing to do for a while sleep on a condition variable and are woken by the next call.
/// Indices are handed out one at a time through an atomic counter, and the caller closes the generation once
/// it runs out of indices: it then waits only for workers that joined, never for one that the scheduler has
/// not run yet (on two cores shared with a decode thread that happens).
///
/// One call at a time: `parallelFor` must not be called concurrently or from inside its own body.
public final class ComputePool: @unchecked Sendable {
    public let threadCount: Int
    private let shared: PoolShared
    private var workers: [pthread_t] = []

    /// - Parameter threadCount: threads taking part in each loop, the caller included (at least 1).
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a compute pool needs at least one thread")
        self.threadCount = threadCount
        shared = PoolShared(workerCount: threadCount - 1)
        for _ in 1..<threadCount {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(shared).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                Unmanaged<PoolShared>.fromOpaque(context!).takeRetainedValue().workerLoop()
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed: \(status)")
            workers.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in workers { pthread_join(thread, nil) }
    }

    /// Runs `body(i)` for `i` in `0 ..< count` across the pool's threads and waits for all.
    ///
    /// Each index runs exactly once, on some thread; writes made by `body` are visible when this returns.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // The workers only use `body` until `run` returns, which is what makes the escape safe.
        withoutActuallyEscaping(body) { body in shared.run(count: count, body: body) }
    }
}

/// State the caller and the workers share; workers hold it (not the pool) so the pool can deinit.
///
/// `state` packs the generation (high bits), a closed flag and the number of workers that joined.
/// `body` and `count` are plain fields: the caller writes them before the releasing store that opens a
/// generation; a worker reads them only after joining it (an acquiring compare-exchange on the same word),
/// and the caller clears `body` only after closing the generation and seeing every joined worker finish
/// (acquiring `finished`). That ordering is why the class is `@unchecked Sendable`.
private final class PoolShared: @unchecked Sendable {
    static let generationUnit = 1 << 32
    static let closedFlag = 1 << 31
    static let joinedMask = (1 << 31) - 1

    let workerCount: Int
    let state = Atomic<Int>(0)
    let nextIndex = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    var count = 0
    var body: ((Int) -> Void)?
    var stopping = false
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let wakeUp = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Polls of `state` before a worker goes to sleep: roughly 50–100 µs, longer than the gaps between
    /// the products of one decode step, far shorter than the gap between requests.
    static let spinPolls = 1 << 16

    init(workerCount: Int) {
        self.workerCount = workerCount
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
    }

    deinit {
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        wakeUp.deallocate()
        mutex.deallocate()
    }

    func run(count: Int, body: @escaping (Int) -> Void) {
        precondition(!busy.exchange(true, ordering: .acquiring), "ComputePool.parallelFor called concurrently or re-entrantly")
        self.count = count
        self.body = body
        nextIndex.store(0, ordering: .relaxed)
        finished.store(0, ordering: .relaxed)
        publish()
        drain(count: count, body: body)
        let joined = close()
        var polls = 0
        while finished.load(ordering: .acquiring) < joined {
            polls += 1
            if polls > 4096 { sched_yield() }
        }
        self.body = nil
        busy.store(false, ordering: .releasing)
    }

    func stop() {
        stopping = true
        publish()
    }

    /// Opens a new generation with no worker joined; under the mutex so a worker about to sleep cannot miss it.
    private func publish() {
        pthread_mutex_lock(mutex)
        let next = (state.load(ordering: .relaxed) & ~(Self.generationUnit - 1)) &+ Self.generationUnit
        state.store(next, ordering: .releasing)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
    }

    /// Closes the current generation to latecomers and returns how many workers joined it.
    private func close() -> Int {
        var current = state.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current | Self.closedFlag, ordering: .acquiringAndReleasing)
            if exchanged { return original & Self.joinedMask }
            current = original
        }
    }

    /// Joins generation `generation` unless it has been closed or replaced.
    private func join(generation: Int) -> Bool {
        var current = state.load(ordering: .acquiring)
        while current & ~(Self.generationUnit - 1) == generation && current & Self.closedFlag == 0 {
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    private func drain(count: Int, body: (Int) -> Void) {
        while true {
            let i = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
        }
    }

    func workerLoop() {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if stopping { return }
            if join(generation: seen) {
                drain(count: count, body: body!)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    /// Waits until a generation other than `seen` is published and returns it.
    private func waitForGeneration(after seen: Int) -> Int {
        for _ in 0..<Self.spinPolls {
            let current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
            if current != seen { return current }
        }
        pthread_mutex_lock(mutex)
        var current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
        while current == seen {
            pthread_cond_wait(wakeUp, mutex)
            current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
        }
        pthread_mutex_unlock(mutex)
        return current
    }
}
