#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The process's peak resident set since start, kept across resets of the kernel's high-water mark.
///
/// Today's planner (`LanguageModel`) refuses to plan when the process already peaked above the budget it
/// is given. An allowance is relative to what is resident *now*, so before planning one `Engine` resets
/// VmHWM to the current RSS (`/proc/self/clear_refs`, value 5); the peak reached before is recorded here
/// first, so that a server's reports still show the true peak since start.
public enum PeakResidentMemory {
    private static let recorded = Mutex(0)

    /// The highest VmHWM seen since the process started, including before any reset.
    public static var sinceStart: Int {
        let now = ResidentMemory.read().peak
        return recorded.withLock { recorded in
            recorded = max(recorded, now)
            return recorded
        }
    }

    /// Records the peak so far, then lowers VmHWM to the current RSS.
    /// - Returns: false when the kernel refused the reset (the high-water mark then stays as it was).
    @discardableResult
    public static func resetToCurrent() -> Bool {
        recorded.withLock { recorded in
            recorded = max(recorded, ResidentMemory.read().peak)
            guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
            let written = fputs("5", file) >= 0
            return fclose(file) == 0 && written
        }
    }
}
