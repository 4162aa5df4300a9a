#if canImport(Glibc)
import Glibc
#endif

/// The process-wide settings that keep wstream's address space close to its resident set, and the address-space
/// limit (`RLIMIT_AS`, `ulimit -v`) the process runs under.
///
/// Left alone, glibc gives each thread that allocates its own malloc arena, each reserving 64 MiB of address space,
/// and each thread an 8 MiB stack: about 380 MB of address space the process never touches, enough to fail under
/// a limit that the resident set is far inside.
public enum ProcessLimits {
    /// Stack of each thread started after `prepare()`: enough for the deepest code that runs off the main thread
    /// (the chat-template renderer bounds its own recursion well inside it).
    public static let threadStackBytes = 2 << 20

    /// Address space a process needs beyond its resident set, at most, after `prepare()`: the parts of shared
    /// libraries never read, thread stacks' untouched pages, guard pages. Measured values above it are used as they
    /// are; this is the figure documentation and tests state.
    public static let statedAddressSpaceOverhead = 64 << 20

    /// Limits glibc malloc to one arena and sets the default stack of threads started from now on to
    /// `threadStackBytes`. Call it first thing, before other threads exist; later calls do nothing.
    public static func prepare() {
        _ = prepared
    }

    private static let prepared: Bool = {
        guard let handle = dlopen(nil, RTLD_NOW) else { return false }
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        typealias SetDefaultAttributes = @convention(c) (UnsafePointer<pthread_attr_t>) -> Int32
        // Neither is in Glibc's module map (malloc.h; a _GNU_SOURCE extension of pthread.h).
        if let symbol = dlsym(handle, "mallopt") {
            let arenaMaximum: Int32 = -8  // M_ARENA_MAX
            _ = unsafeBitCast(symbol, to: MallocOption.self)(arenaMaximum, 1)
        }
        if let symbol = dlsym(handle, "pthread_setattr_default_np") {
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setstacksize(&attributes, threadStackBytes)
            _ = unsafeBitCast(symbol, to: SetDefaultAttributes.self)(&attributes)
            pthread_attr_destroy(&attributes)
        }
        return true
    }()

    /// The soft `RLIMIT_AS` in bytes, or nil when address space is unlimited.
    public static var addressSpaceLimit: Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }
}
