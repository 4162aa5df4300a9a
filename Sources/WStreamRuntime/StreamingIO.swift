/// How streamed units reach memory each time they are needed (resident units are read into the pool once).
///
/// Units that `pack` stores as decoded (raw frames, its default) are used as they lie in the file; any other unit
/// is decoded from mapped pieces of the file into a slot of the pool, in either mode.
public enum StreamingIO: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Each unit is mapped from the file, its pages faulted in on the background thread (`MAP_POPULATE`), computed on
    /// where it lies, and unmapped after use. No copy at all: the right choice when the page cache can keep the
    /// file, as on a host with free memory. The window's pages count in the resident set while it is mapped, exactly
    /// as a slot would.
    case mapped
    /// Each unit is read into a slot of the pool with `O_DIRECT`, past the page cache, so that nothing outside the
    /// process's own memory grows: the right choice in a memory cgroup, which charges the page cache to the group
    /// and would otherwise evict the very pages the next token needs.
    case direct

    public var description: String { rawValue }
}
