import Glibc

/// Where a cgroup controller keeps this process's limits: for each hierarchy that carries the controller (a cgroup
/// v1 mount with it, or the unified cgroup2 mount), the directory of the process's group and of each group above it
/// up to the mount point. `CPUAllowance` reads CPU quotas and `MemoryCgroup` memory limits through it.
///
/// The hierarchies come from `/proc/self/mountinfo` and the process's path in each from `/proc/self/cgroup`. Inside
/// a container that path may lie outside the mounted root (the host's path without a cgroup namespace): the mount's
/// own directory is then the container's group.
enum CgroupHierarchy {
    enum Version { case v1, v2 }

    struct Mount {
        let version: Version
        /// The cgroup path the mount shows at its mount point.
        let root: String
        let mountPoint: String
    }

    /// Each hierarchy carrying `controller`, with the directories of the process's group and its ancestors.
    /// - Parameter readFile: the contents of a file, or nil when it cannot be read (injected by tests).
    static func groups(controller: String, readFile: (String) -> String?) -> [(version: Version, directories: [String])] {
        guard let mountInfo = readFile("/proc/self/mountinfo"), let cgroups = readFile("/proc/self/cgroup") else { return [] }
        return mounts(mountInfo: mountInfo, controller: controller).compactMap { mount in
            membership(cgroups: cgroups, version: mount.version, controller: controller).map {
                (mount.version, directories(from: $0, mount: mount))
            }
        }
    }

    /// cgroup2 mounts and the v1 mounts carrying `controller`.
    static func mounts(mountInfo: String, controller: String) -> [Mount] {
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
            case "cgroup" where tail[2].split(separator: ",").contains(Substring(controller)):
                return Mount(version: .v1, root: root, mountPoint: mountPoint)
            default:
                return nil
            }
        }
    }

    /// The process's path in the hierarchy of `version` from `/proc/self/cgroup`
    /// (`0::/path` for v2, `id:controllers:/path` with `controller` among the controllers for v1).
    static func membership(cgroups: String, version: Version, controller: String) -> String? {
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            switch version {
            case .v2 where fields[0] == "0" && fields[1].isEmpty:
                return String(fields[2])
            case .v1 where fields[1].split(separator: ",").contains(Substring(controller)):
                return String(fields[2])
            default:
                continue
            }
        }
        return nil
    }

    /// The directory of the process's group under `mount` and each ancestor up to the mount point.
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

    /// The text of a small file under /proc or /sys, or nil when it cannot be read. Such files report a size of 0
    /// or 4096 whatever they hold, so it reads until EOF (at most 1 MiB).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += buffer[..<n]
            if bytes.count > 1 << 20 { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
