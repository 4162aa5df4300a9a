import Testing
@testable import WStreamRuntime

/// The memory limit a process runs under, read from /proc/self/mountinfo, /proc/self/cgroup and the cgroup files
/// (here injected).
@Suite struct MemoryCgroupTests {
    static let gibibyte = 1 << 30
    /// A v1 `memory` hierarchy and the unified v2 one, as /proc/self/mountinfo lists them.
    static let mounts = """
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
        """

    private func limit(cgroup: String, _ files: [String: String]) -> Int? {
        let all = files.merging(["/proc/self/mountinfo": Self.mounts, "/proc/self/cgroup": cgroup]) { a, _ in a }
        return MemoryCgroup.currentLimit(readFile: { all[$0] })
    }

    @Test func cgroupV1LimitIsTheSmallestOfTheGroupAndItsParents() {
        let files = [
            "/sys/fs/cgroup/memory/a/b/memory.limit_in_bytes": "\(2 * Self.gibibyte)\n",
            "/sys/fs/cgroup/memory/a/memory.limit_in_bytes": "\(Self.gibibyte)\n",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
        ]
        #expect(limit(cgroup: "12:pids:/\n4:memory:/a/b\n0::/\n", files) == Self.gibibyte)
    }

    @Test func cgroupV2LimitIsReadFromMemoryMax() {
        let files = ["/sys/fs/cgroup/app/memory.max": "\(700 << 20)\n", "/sys/fs/cgroup/memory.max": "max\n"]
        #expect(limit(cgroup: "0::/app\n", files) == 700 << 20)
    }

    @Test func noLimitBelowPhysicalMemoryIsNoLimit() {
        let files = ["/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n", "/sys/fs/cgroup/memory.max": "max\n"]
        #expect(limit(cgroup: "4:memory:/\n0::/\n", files) == nil)
    }
}
