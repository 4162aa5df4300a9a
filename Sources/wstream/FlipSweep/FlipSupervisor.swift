#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import WStreamProcess

/// Runs a sweep's flips in child processes (`wstream flip-sweep --worker-range …`, each a `FlipWorker`) and collects
/// every flip's outcome, so that no crash or hang can hide.
///
/// The flips are cut into `jobs` slices, each run by one child at a time. When a child dies, or journals nothing for
/// `stallSeconds` (then it is killed), the flip it had begun is recorded as `crashed` or `hung` and a new child
/// carries on after it.
struct FlipSupervisor {
    let model: String
    let plan: FlipPlan
    /// Arguments every worker gets besides its range, journal and copy (the probe's options and the baseline).
    let workerArguments: [String]
    /// A folder for the workers' copies, journals and output.
    let scratch: String
    let jobs: Int
    let stallSeconds: Double

    /// Runs every flip of the plan.
    /// - Parameter progress: called now and then with the number of flips done.
    /// - Returns: one record with an outcome per flip, in plan order.
    /// - Throws: `CommandFailure` when a worker cannot start, or fails outside any flip.
    func run(progress: @escaping @Sendable (Int) -> Void) throws -> [FlipRecord] {
        let count = plan.bits.count
        let slices = (0..<jobs).map { job in (count * job / jobs)..<(count * (job + 1) / jobs) }.filter { !$0.isEmpty }
        let results = Mutex([Result<[FlipRecord], CommandFailure>?](repeating: nil, count: slices.count))
        let done = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: slices.count) { job in
            let outcome = Result { () throws(CommandFailure) in
                try runSlice(slices[job], job: job) { progress(done.add($0, ordering: .relaxed).newValue) }
            }
            results.withLock { $0[job] = outcome }
        }
        return try results.withLock { $0 }.flatMap { try $0!.get() }.sorted { $0.index < $1.index }
    }

    /// Runs the flips of `slice` in successive children until each has an outcome.
    private func runSlice(_ slice: Range<Int>, job: Int, progress: (Int) -> Void) throws(CommandFailure) -> [FlipRecord] {
        var records: [FlipRecord] = []
        var next = slice.lowerBound
        var attempt = 0
        while next < slice.upperBound {
            attempt += 1
            let journal = JournalReader(path: "\(scratch)/journal-\(job)-\(attempt)")
            let arguments = ["flip-sweep", model] + workerArguments + [
                "--worker-range", "\(next):\(slice.upperBound)", "--journal", journal.path, "--copy", "\(scratch)/copy-\(job).wst",
            ]
            let child = try WorkerProcess(arguments: arguments, output: "\(scratch)/worker-\(job)-\(attempt)")
            var begun: Int?
            var quietSince = monotonicSeconds()
            var stalled = false
            while true {
                let exited = child.poll()
                let read = journal.readNew()
                if !read.isEmpty { quietSince = monotonicSeconds() }
                for record in read {
                    guard record.outcome != nil else { begun = record.index; continue }
                    records.append(record)
                    begun = nil
                    next = record.index + 1
                    progress(1)
                }
                if let exited {
                    if let flip = begun {
                        let outcome: FlipOutcome = stalled ? .hung : .crashed
                        let detail = stalled ? "no outcome within \(Int(stallSeconds)) s; killed" : "\(exited); \(child.lastErrorLine)"
                        records.append(FlipRecord(index: flip, outcome: outcome, detail: detail))
                        next = flip + 1
                        progress(1)
                    } else if next < slice.upperBound || exited != .exited(0) {
                        throw CommandFailure("a sweep worker (`wstream \(arguments.joined(separator: " "))`) ended with \(exited) outside any flip: \(child.lastErrorLine)")
                    }
                    break
                }
                if !stalled, monotonicSeconds() - quietSince > stallSeconds {
                    stalled = true
                    child.kill()
                }
                usleep(20_000)
            }
        }
        return records
    }
}

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
