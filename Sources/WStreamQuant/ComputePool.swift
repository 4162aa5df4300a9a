import Glibc
import Synchronization

/// A fixed set of worker threads for data-parallel loops (no thread is created per call).
///
/// `threadCount − 1` workers are started once; the calling thread is the last participant. A call publishes
/// its loop by starting a new generation; workers that finished recently are still polling for it and join
/// within a microsecond or so, which matters because a decode step is hundreds of sub-millisecond products.
/// Indices are handed out one at a time through an atomic counter, and the caller closes the generation once
/// it runs out of indices: it then waits only for workers that joined, never for one that the scheduler has
/// not run yet (on two cores shared with a decode thread that happens).
///
/// Waiting is bounded so that idle workers do not hold a core that another thread needs (on a 2-core
/// machine the streamer's background decoder needs one): see `WaitPolicy`. Workers waiting for the next call
/// and the caller waiting for the workers that joined both follow it.
///
/// Between calls an idle worker can read ahead the start of what it will read next (`ProductSchedule`), until the
/// next call comes; a call that gives nothing to read ahead (attention's heads) leaves the last call's leads in place,
/// so the worker goes on reading ahead into the same product after it.
///
/// One call at a time: `parallelFor` must not be called concurrently or from inside its own body.
public final class ComputePool: @unchecked Sendable {
    public let threadCount: Int
    private let shared: PoolShared
    private var workers: [pthread_t] = []

    /// - Parameters:
    ///   - threadCount: threads taking part in each loop, the caller included (at least 1).
    ///   - waitPolicy: how long waiting threads poll before they yield and then sleep.
    public init(threadCount: Int, waitPolicy: WaitPolicy = .standard) {
        precondition(threadCount >= 1, "a compute pool needs at least one thread")
        self.threadCount = threadCount
        shared = PoolShared(workerCount: threadCount - 1, policy: waitPolicy)
        for index in 0..<(threadCount - 1) {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(Worker(shared: shared, index: index)).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
                worker.shared.workerLoop(index: worker.index)
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
        parallelFor(count, thenReadAhead: nil, body)
    }

    /// `parallelFor`, after which worker `k`, once it has nothing left to run, reads `leads[k]` into its L2 (a
    /// `prefetcht2` per line) until the next call starts: the start of part `k + 1` of the next product, the part
    /// worker `k` takes when the threads reach the shared index in turn (the caller first). With two threads that
    /// is 98 % of products; with more, a worker often takes another part than its lead's, and its read-ahead then
    /// only warms the shared cache. `nil` keeps the leads of the last call that gave some. Prefetches never fault,
    /// so a lead that is no longer mapped is harmless.
    func parallelFor(_ count: Int, thenReadAhead leads: ProductSchedule.Leads?, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // The workers only use `body` until `run` returns, which is what makes the escape safe.
        withoutActuallyEscaping(body) { body in shared.run(count: count, leads: leads, body: body) }
    }

    /// The products this pool ran, in order, for the leads `MatrixKernels` passes to `parallelFor`; the pool's
    /// rule holds for it too: one product at a time.
    let schedule = ProductSchedule()

    /// How long a waiting thread keeps its core.
    ///
    /// A decode step is a few hundred products with gaps of microseconds between them, so a worker that
    /// slept after every product would pay a wake-up (tens of microseconds) each time. A worker that spun
    /// through every gap would take a core from the streamer's decoder on a 2-core machine. So a waiting
    /// thread first polls, then keeps polling but calls `sched_yield` between polls, which costs nothing
    /// when no other thread is runnable and hands the core over when one is, and finally sleeps on a
    /// condition variable.
    public struct WaitPolicy: Sendable, Equatable {
        /// Nanoseconds of polling only.
        public var spinNanoseconds: Int
        /// Nanoseconds from the start of the wait until the thread sleeps, the spin included.
        public var yieldNanoseconds: Int

        public init(spinNanoseconds: Int, yieldNanoseconds: Int) {
            self.spinNanoseconds = spinNanoseconds
            self.yieldNanoseconds = max(yieldNanoseconds, spinNanoseconds)
        }

        /// 20 µs of spinning covers the gaps inside a decode step; 1 ms in all covers the longer ones
        /// (attention over a long context, the sampler and the text between tokens) without holding a core between
        /// requests. With 200 µs a worker slept and was woken about once per LFM2-1.2B token on an Intel Xeon
        /// under KVM, and decode ran 3–5 % slower; with 1 ms it sleeps a few times in 128 tokens.
        public static let standard = WaitPolicy(spinNanoseconds: 20_000, yieldNanoseconds: 1_000_000)
    }
}

/// What a worker thread starts with: the shared state and which worker it is.
private final class Worker {
    let shared: PoolShared
    let index: Int

    init(shared: PoolShared, index: Int) {
        self.shared = shared
        self.index = index
    }
}

/// State the caller and the workers share; workers hold it (not the pool) so the pool can deinit.
///
/// `state` packs the generation (high bits), a closed flag and the number of workers that joined.
/// `body`, `count` and `leads` are plain fields: the caller writes them before the releasing store that opens a
/// generation; a worker reads them only after joining it (an acquiring compare-exchange on the same word),
/// and the caller clears `body` only after closing the generation and seeing every joined worker finish
/// (acquiring `finished`). That ordering is why the class is `@unchecked Sendable`.
private final class PoolShared: @unchecked Sendable {
    static let generationUnit = 1 << 32
    static let closedFlag = 1 << 31
    static let joinedMask = (1 << 31) - 1

    let workerCount: Int
    let policy: ComputePool.WaitPolicy
    let state = Atomic<Int>(0)
    let nextIndex = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    /// Set (sequentially consistent) by a caller about to sleep until `finished` reaches the joined count.
    let callerSleeping = Atomic<Bool>(false)
    var count = 0
    var body: ((Int) -> Void)?
    var leads: ProductSchedule.Leads = []
    var stopping = false
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Workers sleep on it for the next generation.
    let wakeUp = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The caller sleeps on it for the last joined worker.
    let allFinished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(workerCount: Int, policy: ComputePool.WaitPolicy) {
        self.workerCount = workerCount
        self.policy = policy
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
        pthread_cond_init(allFinished, nil)
    }

    deinit {
        pthread_cond_destroy(allFinished)
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        allFinished.deallocate()
        wakeUp.deallocate()
        mutex.deallocate()
    }

    func run(count: Int, leads: ProductSchedule.Leads?, body: @escaping (Int) -> Void) {
        let wasBusy = busy.exchange(true, ordering: .acquiring)
        precondition(!wasBusy, "ComputePool.parallelFor called concurrently or re-entrantly")
        self.count = count
        self.body = body
        if let leads { self.leads = leads }
        nextIndex.store(0, ordering: .relaxed)
        finished.store(0, ordering: .relaxed)
        publish()
        drain(count: count, body: body)
        let joined = close()
        if !BoundedWait(policy).until({ finished.load(ordering: .acquiring) >= joined }) {
            sleepUntilFinished(joined)
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

    /// The caller's sleep: the flag and the count are both sequentially consistent, so either the last
    /// worker sees the flag (and signals under the mutex, which the caller holds until it waits) or the
    /// caller sees that worker's increment.
    private func sleepUntilFinished(_ joined: Int) {
        pthread_mutex_lock(mutex)
        callerSleeping.store(true, ordering: .sequentiallyConsistent)
        while finished.load(ordering: .sequentiallyConsistent) < joined {
            pthread_cond_wait(allFinished, mutex)
        }
        callerSleeping.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if stopping { return }
            if join(generation: seen) {
                let lead = index < leads.count ? leads[index] : nil
                drain(count: count, body: body!)
                finished.wrappingAdd(1, ordering: .sequentiallyConsistent)
                if callerSleeping.load(ordering: .sequentiallyConsistent) {
                    pthread_mutex_lock(mutex)
                    pthread_cond_signal(allFinished)
                    pthread_mutex_unlock(mutex)
                }
                if let lead { readAhead(lead, until: seen) }
            }
        }
    }

    /// Asks for `lead`'s lines into L2, a page at a time, until a generation after `generation` is published.
    private func readAhead(_ lead: UnsafeRawBufferPointer, until generation: Int) {
        guard let start = lead.baseAddress else { return }
        let pageBytes = 4096, lineBytes = 64
        var offset = 0
        while offset < lead.count && state.load(ordering: .relaxed) & ~(Self.generationUnit - 1) == generation {
            let end = min(offset + pageBytes, lead.count)
            while offset < end {
                CodePrefetch.intoSecondLevel(start + offset)
                offset += lineBytes
            }
        }
    }

    /// Waits until a generation other than `seen` is published and returns it.
    private func waitForGeneration(after seen: Int) -> Int {
        var current = seen
        let published = BoundedWait(policy).until {
            current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
            return current != seen
        }
        if published { return current }
        pthread_mutex_lock(mutex)
        current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
        while current == seen {
            pthread_cond_wait(wakeUp, mutex)
            current = state.load(ordering: .acquiring) & ~(Self.generationUnit - 1)
        }
        pthread_mutex_unlock(mutex)
        return current
    }
}
