#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif

/// Who made the CPU, from `cpuid`'s vendor string: some tuning that no instruction set reveals depends on it
/// (`TilePrefetch`).
public enum CPUVendor: String, Sendable {
    case intel
    case amd
    case other

    /// This machine's, read once.
    public static let current = CPUVendor(vendorString: currentVendorString)

    /// `cpuid` leaf 0's vendor string: `GenuineIntel`, `AuthenticAMD`; empty where there is no `cpuid`.
    public static var currentVendorString: String {
        #if arch(x86_64)
        var highestLeaf: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0
        guard __get_cpuid(0, &highestLeaf, &ebx, &ecx, &edx) != 0 else { return "" }
        // The twelve characters are in EBX, EDX, ECX, little-endian.
        let bytes = [ebx, edx, ecx].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return ""
        #endif
    }

    public init(vendorString: String) {
        switch vendorString {
        case "GenuineIntel": self = .intel
        case "AuthenticAMD": self = .amd
        default: self = .other
        }
    }
}
