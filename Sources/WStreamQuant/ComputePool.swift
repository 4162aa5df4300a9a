import Glibc
import Synchronization

/// A fixed set of worker threads for data-parallel loops (no thread is created per call).
///
/// `threadCount − 1` workers are started once; the calling thread is the last participant. A call publishes
/// its loop by bumping a generation counter; workers that finished recently are still spinning on it and
/// start within a microsecond or so, which matters because a decode step is hundreds of sub-millisecond
/// products. Workers that found nothing to do for a while sleep on a condition variable and are woken
/// by the next call. Indices are handed out one at a time through an atomic counter.
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
        for _ in 1..<max(threadCount, 1) {
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
/// `body` and `count` are plain fields: the caller writes them before the releasing increment of
/// `generation`, workers read them after its acquiring load, and the caller clears `body` only after every
/// worker has reported (acquiring `finished`). That ordering is why the class is `@unchecked Sendable`.
private final class PoolShared: @unchecked Sendable {
    let workerCount: Int
    let generation = Atomic<Int>(0)
    let nextIndex = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    var count = 0
    var body: ((Int) -> Void)?
    var stopping = false
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let wakeUp = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Polls of `generation` before a worker goes to sleep: roughly 50–100 µs, longer than the gaps between
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
        var polls = 0
        while finished.load(ordering: .acquiring) < workerCount {
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

    /// Starts a new generation; incremented under the mutex so a worker about to sleep cannot miss it.
    private func publish() {
        pthread_mutex_lock(mutex)
        generation.wrappingAdd(1, ordering: .releasing)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
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
            drain(count: count, body: body!)
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    private func waitForGeneration(after seen: Int) -> Int {
        for _ in 0..<Self.spinPolls {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
        }
        pthread_mutex_lock(mutex)
        var current = generation.load(ordering: .acquiring)
        while current == seen {
            pthread_cond_wait(wakeUp, mutex)
            current = generation.load(ordering: .acquiring)
        }
        pthread_mutex_unlock(mutex)
        return current
    }
}
