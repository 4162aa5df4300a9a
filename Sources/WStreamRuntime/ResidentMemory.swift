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
    /// `VmSize`: address space mapped now (what `RLIMIT_AS` limits).
    public let addressSpace: Int
    /// `VmPeak`: the most address space mapped so far.
    public let addressSpacePeak: Int

    public init(current: Int, peak: Int, addressSpace: Int, addressSpacePeak: Int) {
        self.current = current
        self.peak = peak
        self.addressSpace = addressSpace
        self.addressSpacePeak = addressSpacePeak
    }

    /// Reads `VmRSS`, `VmHWM`, `VmSize` and `VmPeak` from `/proc/self/status` (zero where unavailable).
    public static func read() -> ResidentMemory {
        var values: [String: Int] = [:]
        if let file = fopen("/proc/self/status", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                for key in ["VmRSS:", "VmHWM:", "VmSize:", "VmPeak:"] where text.hasPrefix(key) {
                    values[key] = kilobytes(in: text) * 1024
                }
            }
        }
        return ResidentMemory(current: values["VmRSS:"] ?? 0, peak: values["VmHWM:"] ?? 0,
                              addressSpace: values["VmSize:"] ?? 0, addressSpacePeak: values["VmPeak:"] ?? 0)
    }

    private static func kilobytes(in line: String) -> Int {
        Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "") ?? 0
    }
}
