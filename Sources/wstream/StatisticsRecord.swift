import FoundationEssentials
import WStream

/// `GenerationStatistics` as the one JSON line `run --stats-json` writes to standard error, for `bench` to read back.
struct StatisticsRecord: Codable, Equatable {
    var promptTokens: Int
    var prefillTokensPerSecond: Double
    var generatedTokens: Int
    var decodeTokensPerSecond: Double
    var stopReason: String
    var peakResidentBytes: Int
    var peakAddressSpaceBytes: Int
    var budgetBytes: Int?
    var poolBytes: Int
    var weightBytes: Int
    var streamingIO: String?
    var residentRegions: Int
    var streamedRegions: Int
    var hits: Int
    var misses: Int
    var bytesStreamedPerToken: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case generatedTokens = "generated_tokens"
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case stopReason = "stop_reason"
        case peakResidentBytes = "peak_resident_bytes"
        case peakAddressSpaceBytes = "peak_address_space_bytes"
        case budgetBytes = "budget_bytes"
        case poolBytes = "pool_bytes"
        case weightBytes = "weight_bytes"
        case streamingIO = "streaming_io"
        case residentRegions = "resident_regions"
        case streamedRegions = "streamed_regions"
        case hits, misses
        case bytesStreamedPerToken = "bytes_streamed_per_token"
    }

    init(_ s: GenerationStatistics) {
        promptTokens = s.promptTokens
        prefillTokensPerSecond = s.prefillTokensPerSecond
        generatedTokens = s.generatedTokens
        decodeTokensPerSecond = s.decodeTokensPerSecond
        stopReason = s.stopReason.rawValue
        peakResidentBytes = s.peakResidentBytes
        peakAddressSpaceBytes = s.peakAddressSpaceBytes
        budgetBytes = s.budgetBytes
        poolBytes = s.poolBytes
        weightBytes = s.weightBytes
        streamingIO = s.streamingIO?.rawValue
        residentRegions = s.residentRegions
        streamedRegions = s.streamedRegions
        hits = s.hits
        misses = s.misses
        bytesStreamedPerToken = s.bytesStreamedPerToken
    }

}

/// `run --stats-json`'s line when the budget is refused: the minimum as a number, for `bench` to report.
struct BudgetRefusalRecord: Codable, Equatable {
    var error = "budget_too_small"
    var budgetBytes: Int
    var minimumBytes: Int

    enum CodingKeys: String, CodingKey {
        case error
        case budgetBytes = "budget_bytes"
        case minimumBytes = "minimum_bytes"
    }
}

/// Records that a child process writes as single lines of JSON among its other output.
protocol JSONLineRecord: Codable {}

extension StatisticsRecord: JSONLineRecord {}
extension BudgetRefusalRecord: JSONLineRecord {}

extension JSONLineRecord {
    /// One line of JSON with sorted keys.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The record in the last line of `text` that holds one (the child may have written other lines), or nil.
    static func find(in text: String) -> Self? {
        text.split(separator: "\n").reversed().lazy.compactMap { line in
            line.hasPrefix("{") ? try? JSONDecoder().decode(Self.self, from: Data(line.utf8)) : nil
        }.first
    }
}
