import WStream

/// The `--stats` block printed to standard error after a generation.
enum StatisticsReport {
    static func print(_ s: GenerationStatistics) {
        let budget = s.budgetBytes.map { "budget \(ByteCount.format($0)) (\(Terminal.decimal(Double(s.peakResidentBytes) / Double($0) * 100))% used)" } ?? "no budget"
        let perToken = Terminal.megabytes(s.bytesStreamedPerToken)
        Terminal.error("""

            prompt     \(s.promptTokens) tokens, \(Terminal.decimal(s.prefillTokensPerSecond)) tok/s prefill
            generated  \(s.generatedTokens) tokens, \(Terminal.decimal(s.decodeTokensPerSecond)) tok/s decode (stop: \(s.stopReason.rawValue))
            peak RSS   \(ByteCount.format(s.peakResidentBytes)) (VmHWM), \(budget); address space \(ByteCount.format(s.peakAddressSpaceBytes)) (VmPeak)
            pool       \(ByteCount.format(s.poolBytes)): \(s.residentRegions) regions resident, \(s.streamedRegions) streamed
            plan       pool + \(ByteCount.format(s.workingSetBytes)) resident (\(ByteCount.format(s.workingSetAddressSpace)) of address space) for everything else
            streaming  \(s.hits) hits, \(s.misses) misses, \(perToken) streamed per decoded token\(s.streamingIO.map { " (\($0))" } ?? "")\(s.bytesStreamed > 0 ? " at \(Terminal.decimal(s.streamingBytesPerSecond / 1e9, places: 2)) GB/s, \(Terminal.decimal(s.stallSeconds * 1000 / Double(max(s.decodeSteps, 1)))) ms per decoded token waiting" : "")
            """)
    }
}
