/// The instruction sets the integer kernels are written for, chosen when the package is built.
///
/// Package.swift reads the host's CPU flags (or `WSTREAM_KERNELS`) and compiles the kernels the target CPU
/// can run: swiftc crashes on an intrinsic the target lacks, so the choice cannot wait until run time.
/// `native` is the fastest family compiled in; `available` lists every family this build can run, so tests
/// compare each against the reference.
public enum KernelFamily: String, Sendable, CaseIterable, CustomStringConvertible {
    /// AVX-512 with VNNI: `vpdpbusd` on 512-bit vectors, 64 byte products per instruction.
    case avx512vnni
    /// AVX2: `vpmaddubsw` + `vpmaddwd` on 256-bit vectors.
    case avx2
    /// Plain Swift SIMD, for any CPU (`make portable`, ARM64).
    case portable

    /// The fastest family this build has.
    public static var native: KernelFamily {
        #if WSTREAM_AVX512VNNI
        return .avx512vnni
        #elseif WSTREAM_AVX2
        return .avx2
        #else
        return .portable
        #endif
    }

    /// Every family this build can run, fastest first.
    public static var available: [KernelFamily] {
        #if WSTREAM_AVX512VNNI
        return [.avx512vnni, .avx2, .portable]
        #elseif WSTREAM_AVX2
        return [.avx2, .portable]
        #else
        return [.portable]
        #endif
    }

    public var description: String {
        switch self {
        case .avx512vnni: "AVX-512 VNNI"
        case .avx2: "AVX2"
        case .portable: "portable SIMD"
        }
    }
}
