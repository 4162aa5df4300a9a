#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Reads a process's `VmRSS` and `VmHWM` from `/proc/<pid>/status` every 100 ms on a thread of its own, keeping the
/// highest resident set seen and how many samples went over the budget.
final class MemorySampler: Sendable {
    /// One reading, in bytes.
    struct Reading: Sendable {
        var resident = 0
        var peak = 0
    }

    /// What the samples add up to.
    struct Summary: Sendable {
        var samples = 0
        var highestResident = 0
        var samplesOverBudget = 0
        var last = Reading()
    }

    let pid: pid_t
    let budget: Int
    private let state = Mutex((summary: Summary(), running: true))
    private let finished = Mutex(false)

    init(pid: pid_t, budget: Int) {
        self.pid = pid
        self.budget = budget
    }

    /// `VmRSS` and `VmHWM` of the process now (zero once it has gone).
    static func read(_ pid: pid_t) -> Reading {
        var reading = Reading()
        guard let file = fopen("/proc/\(pid)/status", "r") else { return reading }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let kilobytes = Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
            if text.hasPrefix("VmRSS:") { reading.resident = kilobytes * 1024 }
            if text.hasPrefix("VmHWM:") { reading.peak = kilobytes * 1024 }
        }
        return reading
    }

    /// Samples until `stop()`; call on a thread of its own.
    func run() {
        while state.withLock({ $0.running }) {
            let reading = Self.read(pid)
            state.withLock { state in
                state.summary.samples += 1
                state.summary.highestResident = max(state.summary.highestResident, reading.resident)
                if reading.resident > budget { state.summary.samplesOverBudget += 1 }
                state.summary.last = reading
            }
            usleep(100_000)
        }
        finished.withLock { $0 = true }
    }

    /// Ends the sampling and returns what it saw.
    func stop() -> Summary {
        state.withLock { $0.running = false }
        while !finished.withLock({ $0 }) { usleep(10_000) }
        return state.withLock { $0.summary }
    }
}
