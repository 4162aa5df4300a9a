import Testing
import WStreamRuntime

/// The default thread count: CPU affinity capped by cgroup quotas, parsed from injected file contents.
@Suite struct CPUAllowanceTests {
    /// /proc/self/mountinfo lines for a v1 `cpu` hierarchy, a v2 one, and an unrelated mount.
    static let hybridMounts = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    private func files(_ contents: [String: String]) -> (String) -> String? { { contents[$0] } }

    @Test func aV1QuotaCapsTheThreadsRoundedUp() {
        let quota = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": Self.hybridMounts,
            "/proc/self/cgroup": "4:memory:/job\n2:cpu,cpuacct:/job\n0::/job\n",
            "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us": "150000\n",
            "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us": "100000\n",
        ]))
        #expect(quota == 1.5)
        #expect(CPUAllowance.threadCount(affinity: 8, quota: quota) == 2)
        #expect(CPUAllowance.threadCount(affinity: 1, quota: quota) == 1)
    }

    @Test func noQuotaLeavesTheAffinity() {
        let quota = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": Self.hybridMounts,
            "/proc/self/cgroup": "2:cpu,cpuacct:/\n0::/\n",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            "/sys/fs/cgroup/unified/cpu.max": "max 100000\n",
        ]))
        #expect(quota == nil)
        #expect(CPUAllowance.threadCount(affinity: 6, quota: quota) == 6)
    }

    /// The tightest limit on the way to the root counts: a parent's quota binds its children.
    @Test func aV2ParentsQuotaBindsTheChild() {
        let quota = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
            "/proc/self/cgroup": "0::/user.slice/app\n",
            "/sys/fs/cgroup/user.slice/app/cpu.max": "max 100000\n",
            "/sys/fs/cgroup/user.slice/cpu.max": "250000 100000\n",
        ]))
        #expect(quota == 2.5)
        #expect(CPUAllowance.threadCount(affinity: 64, quota: quota) == 3)
    }

    /// In a container without a cgroup namespace the mount shows the container's own group at its root,
    /// while /proc/self/cgroup still names the host's path.
    @Test func aContainersMountRootIsItsOwnGroup() {
        let quota = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": "40 31 0:30 /docker/abc123 /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
            "/proc/self/cgroup": "3:cpu:/docker/abc123\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000",
            "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000",
        ]))
        #expect(quota == 0.5)
        #expect(CPUAllowance.threadCount(affinity: 4, quota: quota) == 1)
        let elsewhere = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": "40 31 0:30 /docker/abc123 /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
            "/proc/self/cgroup": "3:cpu:/system.slice/other\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "300000",
            "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000",
        ]))
        #expect(elsewhere == 3)
    }

    @Test func mountPointsWithEscapedSpacesAreFound() {
        let quota = CPUAllowance.quota(readFile: files([
            "/proc/self/mountinfo": "30 1 0:26 / /mnt/cgroup\\040root rw - cgroup2 cgroup2 rw\n",
            "/proc/self/cgroup": "0::/\n",
            "/mnt/cgroup root/cpu.max": "200000 100000",
        ]))
        #expect(quota == 2)
    }

    @Test func unreadableOrMalformedFilesMeanNoQuota() {
        #expect(CPUAllowance.quota(readFile: files([:])) == nil)
        #expect(CPUAllowance.parseV1(quota: "abc", period: "100000") == nil)
        #expect(CPUAllowance.parseV1(quota: "100000", period: "0") == nil)
        #expect(CPUAllowance.parseV2(cpuMax: "") == nil)
        #expect(CPUAllowance.parseV2(cpuMax: "100000") == nil)
        #expect(CPUAllowance.parseV2(cpuMax: "-5 100000") == nil)
        #expect(CPUAllowance.parseV2(cpuMax: " 300000 100000 \n") == 3)
        #expect(CPUAllowance.threadCount(affinity: 0, quota: nil) == 1)
        #expect(CPUAllowance.threadCount(affinity: 4, quota: 0.01) == 1)
    }

    /// On this machine: at least one thread, and no more than the CPUs the process may run on.
    @Test func theCurrentAllowanceIsWithinTheAffinity() {
        let current = CPUAllowance.current()
        #expect(current >= 1 && current <= CPUAllowance.affinityCount())
    }
}
