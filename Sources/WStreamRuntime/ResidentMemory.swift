#if canImport(Glibc)
import Glibc
#endif

#if !os(Linux)
#error("wstream runs on Linux only: the memory budget is read from /proc/self/status")
#endif

/// The process's resident memory as the kernel reports it in `/proc/self/status`.
public struct ResidentMemory: Sendable, Equatable {
    /// `VmRSS`: resident now.
    public let current: Int
    /// `VmHWM`: the peak so far — the figure a `MemoryBudget` bounds.
    public let peak: Int

    /// Reads `VmRSS` and `VmHWM` from `/proc/self/status` (zero where unavailable).
    public static func read() -> ResidentMemory {
        guard let file = fopen("/proc/self/status", "r") else { return ResidentMemory(current: 0, peak: 0) }
        defer { fclose(file) }
        var current = 0
        var peak = 0
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("VmRSS:") { current = kilobytes(in: text) * 1024 }
            if text.hasPrefix("VmHWM:") { peak = kilobytes(in: text) * 1024 }
        }
        return ResidentMemory(current: current, peak: peak)
    }

    private static func kilobytes(in line: String) -> Int {
        Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "") ?? 0
    }
}
