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
        threadCount(affinity: affinityCount(), quota: quota(readFile: readSystemFile))
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
    ///
    /// Each cgroup hierarchy mounted with the `cpu` controller (v1) or as `cgroup2` is found in
    /// `/proc/self/mountinfo`; the process's path in it comes from `/proc/self/cgroup`. Inside a container
    /// that path may lie outside the mounted root (the host's path without a cgroup namespace): then the
    /// mount's own directory is the container's cgroup.
    /// - Parameter readFile: the contents of a file, or nil when it cannot be read (injected by tests).
    public static func quota(readFile: (String) -> String?) -> Double? {
        guard let mountInfo = readFile("/proc/self/mountinfo"), let cgroups = readFile("/proc/self/cgroup") else { return nil }
        var tightest: Double?
        for mount in cgroupMounts(mountInfo: mountInfo) {
            guard let path = membership(cgroups: cgroups, version: mount.version) else { continue }
            for directory in directories(from: path, mount: mount) {
                let limit: Double?
                switch mount.version {
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

    enum Version { case v1, v2 }

    struct Mount {
        let version: Version
        /// The cgroup path the mount shows at its mount point.
        let root: String
        let mountPoint: String
    }

    /// cgroup2 mounts and v1 mounts carrying the `cpu` controller.
    static func cgroupMounts(mountInfo: String) -> [Mount] {
        mountInfo.split(separator: "\n").compactMap { line in
            // "id parent major:minor root mount-point options [optional…] - fstype source super-options"
            guard let separator = line.firstRange(of: " - ") else { return nil }
            let fields = line[..<separator.lowerBound].split(separator: " ")
            let tail = line[separator.upperBound...].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { return nil }
            let root = unescape(fields[3]), mountPoint = unescape(fields[4])
            switch tail[0] {
            case "cgroup2":
                return Mount(version: .v2, root: root, mountPoint: mountPoint)
            case "cgroup" where tail[2].split(separator: ",").contains("cpu"):
                return Mount(version: .v1, root: root, mountPoint: mountPoint)
            default:
                return nil
            }
        }
    }

    /// The process's path in the hierarchy of `version` from `/proc/self/cgroup`
    /// (`0::/path` for v2, `id:controllers:/path` with `cpu` among the controllers for v1).
    static func membership(cgroups: String, version: Version) -> String? {
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            switch version {
            case .v2 where fields[0] == "0" && fields[1].isEmpty:
                return String(fields[2])
            case .v1 where fields[1].split(separator: ",").contains("cpu"):
                return String(fields[2])
            default:
                continue
            }
        }
        return nil
    }

    /// The directory of the process's cgroup under `mount` and each ancestor up to the mount point.
    static func directories(from path: String, mount: Mount) -> [String] {
        var relative: Substring
        if mount.root == "/" {
            relative = Substring(path)
        } else if path == mount.root || path.hasPrefix(mount.root + "/") {
            relative = path.dropFirst(mount.root.count)
        } else {
            relative = ""
        }
        var result: [String] = []
        var components = relative.split(separator: "/")
        while true {
            result.append(([mount.mountPoint] + components.map(String.init)).joined(separator: "/"))
            if components.isEmpty { return result }
            components.removeLast()
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as `\ooo`.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func trimmed(_ text: String) -> Substring {
        var result = Substring(text)
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }

    /// Small files under /proc and /sys report a size of 0 or 4096 whatever they hold, so read until EOF.
    private static func readSystemFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += buffer[..<n]
            if bytes.count > 1 << 20 { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
