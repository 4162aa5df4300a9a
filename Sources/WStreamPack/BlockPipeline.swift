import Dispatch
import Synchronization

/// Runs numbered jobs on worker threads ahead of one consumer that takes their outputs in order.
///
/// Workers claim jobs 0, 1, 2, … and never run more than `window` ahead of the consumer, so memory stays
/// bounded whatever the job count, while the consumer (the file writer) works at the same time as they compute.
/// Call `finish()` once done, also after an error: it stops the workers and waits for them.
final class BlockPipeline<Output: Sendable>: Sendable {
    private struct State: ~Copyable {
        var next = 0
        var stopped = false
        /// Outputs by `index % window`, present between a worker storing and the consumer taking them.
        var slots: [Result<Output, any Error>?]
    }

    private let count: Int
    private let window: Int
    private let workerCount: Int
    private let state: Mutex<State>
    /// Free slots: a worker takes one before claiming a job, the consumer returns it after taking an output.
    private let space = DispatchSemaphore(value: 0)
    /// One per slot, signalled when its output is stored.
    private let filled: [DispatchSemaphore]
    private let workers = DispatchGroup()

    /// Starts `threads` workers over jobs `0..<count`.
    /// - Parameters:
    ///   - count: the number of jobs.
    ///   - window: outputs computed ahead of the consumer at most (at least 1).
    ///   - threads: worker threads (at least 1).
    ///   - job: computes job `index`; its error is handed to the consumer in `take`.
    init(count: Int, window: Int, threads: Int, job: @escaping @Sendable (Int) throws -> Output) {
        self.count = count
        self.window = max(1, window)
        workerCount = max(1, threads)
        state = Mutex(State(slots: Array(repeating: nil, count: self.window)))
        filled = (0..<self.window).map { _ in DispatchSemaphore(value: 0) }
        // Semaphores start at 0 and are raised here: libdispatch traps when one is released below its initial value,
        // which an abandoned pipeline would otherwise do.
        for _ in 0..<self.window { space.signal() }
        for _ in 0..<workerCount {
            DispatchQueue.global().async(group: workers) { self.work(job) }
        }
    }

    /// The output of job `index`, waiting for it if needed; call with 0, 1, 2, … in turn.
    /// - Throws: the error the job threw.
    func take(_ index: Int) throws -> Output {
        let slot = index % window
        filled[slot].wait()
        let result = state.withLock { state in
            defer { state.slots[slot] = nil }
            return state.slots[slot]!
        }
        space.signal()
        return try result.get()
    }

    /// Stops handing out jobs and waits until every worker has returned.
    func finish() {
        state.withLock { $0.stopped = true }
        for _ in 0..<workerCount { space.signal() }
        workers.wait()
    }

    private func work(_ job: @Sendable (Int) throws -> Output) {
        while true {
            space.wait()
            let claimed: Int? = state.withLock { state in
                guard !state.stopped, state.next < count else { return nil }
                defer { state.next += 1 }
                return state.next
            }
            guard let index = claimed else {
                // Pass the wake-up on: another worker may be waiting for space that will never be freed.
                space.signal()
                return
            }
            let result = Result { try job(index) }
            state.withLock { $0.slots[index % window] = result }
            filled[index % window].signal()
        }
    }
}
