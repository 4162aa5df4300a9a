#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Runs blocking work on dedicated threads, so that clients that block on sockets really run at once (the
/// concurrency pool has one thread per core).
public enum ParallelThreads {
    /// Runs `body(0) … body(count − 1)` each on its own thread and waits for all.
    public static func run<Result: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> Result) -> [Result] {
        let results = ThreadResults<Result>()
        let threads = (0..<count).map { index -> pthread_t in
            let job = ThreadJob {
                let result = body(index)
                results.values.withLock { $0[index] = result }
            }
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { context in
                Unmanaged<ThreadJob>.fromOpaque(context!).takeRetainedValue().work()
                return nil
            }, Unmanaged.passRetained(job).toOpaque())
            precondition(status == 0, "pthread_create failed: \(status)")
            return thread
        }
        for thread in threads { pthread_join(thread, nil) }
        return results.values.withLock { results in (0..<count).map { results[$0]! } }
    }
}

/// One thread's work, handed to `pthread_create` as its context.
private final class ThreadJob: Sendable {
    let work: @Sendable () -> Void

    init(_ work: @escaping @Sendable () -> Void) {
        self.work = work
    }
}

/// What the threads produced, by index.
private final class ThreadResults<Result: Sendable>: Sendable {
    let values = Mutex([Int: Result]())
}
