import Foundation
import Testing
@testable import WStreamQuant

/// The CPU maker that `TilePrefetch` is chosen by.
@Suite struct CPUVendorTests {
    @Test func vendorStringsNameTheirMakers() {
        #expect(CPUVendor(vendorString: "GenuineIntel") == .intel)
        #expect(CPUVendor(vendorString: "AuthenticAMD") == .amd)
        #expect(CPUVendor(vendorString: "HygonGenuine") == .other)
        #expect(CPUVendor(vendorString: "") == .other)
    }

    /// `cpuid` gives the vendor string the kernel reports in /proc/cpuinfo.
    @Test func cpuidReadsTheVendorLinuxReports() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("vendor_id") })
        let reported = line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(CPUVendor.currentVendorString == reported)
        #expect(CPUVendor.current == CPUVendor(vendorString: reported ?? ""))
        #else
        #expect(CPUVendor.currentVendorString == "")
        #expect(CPUVendor.current == .other)
        #endif
    }
}
