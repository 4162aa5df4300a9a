import Glibc

/// How many CPUs this process may keep busy at once: the CPUs its affinity mask allows, capped by the
/// CPU quota of its cgroups (v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, v2 `cpu.max`).
///
/// A container limited to 2 CPUs on a 64-core host still sees 64 online processors; starting 64 compute
/// threads there would have the kernel throttle them in turn, so a decode step would wait on threads that
/// are not allowed to run.
public enum CPUAllowance {
    /// Threads worth running: `min(affinity, ⌈tightest quota⌉)`, at least 1.
    public static func current() -> Int {
        threadCount(affinity: affinityCount(), quota: quota(readFile: CgroupHierarchy.read))
    }

    /// `min(affinity, ⌈quota⌉)`, at least 1; no quota means the affinity alone.
    /// - Parameters:
    ///   - affinity: CPUs in the affinity mask.
    ///   - quota: CPUs' worth of time per period the cgroups allow, nil when unlimited.
    public static func threadCount(affinity: Int, quota: Double?) -> Int {
        var count = max(affinity, 1)
        if let quota, quota > 0 { count = min(count, Int(quota.rounded(.up))) }
        return max(count, 1)
    }

    /// CPUs in this thread's affinity mask (`sched_getaffinity`), or the online processors if it fails.
    public static func affinityCount() -> Int {
        var set = cpu_set_t()
        if let getAffinity = schedGetAffinity, getAffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 {
            let count = withUnsafeBytes(of: &set) { bytes in bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
            if count > 0 { return count }
        }
        return max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
    }

    /// glibc declares `sched_getaffinity` only under `_GNU_SOURCE`, which Swift's Glibc module does not
    /// define, so the function is looked up in the already loaded C library instead.
    private static let schedGetAffinity: (@convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "sched_getaffinity") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32).self)
    }()

    /// The tightest CPU quota over this process's cgroups and their ancestors, in CPUs (quota ÷ period),
    /// or nil when none is set.
    /// - Parameter readFile: the contents of a file, or nil when it cannot be read (injected by tests).
    public static func quota(readFile: (String) -> String?) -> Double? {
        var tightest: Double?
        for hierarchy in CgroupHierarchy.groups(controller: "cpu", readFile: readFile) {
            for directory in hierarchy.directories {
                let limit: Double?
                switch hierarchy.version {
                case .v1:
                    guard let quota = readFile(directory + "/cpu.cfs_quota_us"),
                          let period = readFile(directory + "/cpu.cfs_period_us") else { continue }
                    limit = parseV1(quota: quota, period: period)
                case .v2:
                    guard let max = readFile(directory + "/cpu.max") else { continue }
                    limit = parseV2(cpuMax: max)
                }
                if let limit { tightest = min(tightest ?? limit, limit) }
            }
        }
        return tightest
    }

    /// CPUs allowed by v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us`; nil for `-1` (no quota) or text
    /// that is not a positive quota and period.
    public static func parseV1(quota: String, period: String) -> Double? {
        guard let quota = Int(trimmed(quota)), let period = Int(trimmed(period)), quota > 0, period > 0 else { return nil }
        return Double(quota) / Double(period)
    }

    /// CPUs allowed by v2's `cpu.max` (`"<quota> <period>"`, quota `max` when unlimited); nil when unlimited
    /// or unreadable.
    public static func parseV2(cpuMax: String) -> Double? {
        let fields = trimmed(cpuMax).split(separator: " ")
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else { return nil }
        return Double(quota) / Double(period)
    }

    private static func trimmed(_ text: String) -> Substring {
        var result = Substring(text)
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
