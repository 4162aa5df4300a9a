import Testing
@testable import WStreamRuntime

/// The memory limit a process runs under, read from /proc/self/cgroup and the cgroup files (here injected).
@Suite struct MemoryCgroupTests {
    static let gibibyte = 1 << 30

    @Test func cgroupV1LimitIsTheSmallestOfTheGroupAndItsParents() {
        let files = [
            "/sys/fs/cgroup/memory/a/b/memory.limit_in_bytes": "\(2 * Self.gibibyte)\n",
            "/sys/fs/cgroup/memory/a/memory.limit_in_bytes": "\(Self.gibibyte)\n",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
        ]
        let limit = MemoryCgroup.currentLimit(membership: "12:pids:/\n4:memory:/a/b\n0::/\n", read: { files[$0] })
        #expect(limit == Self.gibibyte)
    }

    @Test func cgroupV2LimitIsReadFromMemoryMax() {
        let files = ["/sys/fs/cgroup/app/memory.max": "\(700 << 20)\n", "/sys/fs/cgroup/memory.max": "max\n"]
        #expect(MemoryCgroup.currentLimit(membership: "0::/app\n", read: { files[$0] }) == 700 << 20)
    }

    @Test func noLimitBelowPhysicalMemoryIsNoLimit() {
        let files = ["/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n", "/sys/fs/cgroup/memory.max": "max\n"]
        #expect(MemoryCgroup.currentLimit(membership: "4:memory:/\n0::/\n", read: { files[$0] }) == nil)
    }
}
