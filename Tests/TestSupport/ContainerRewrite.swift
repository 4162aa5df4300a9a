import FoundationEssentials
@testable import WStreamFormat

/// Containers rewritten as a hostile writer could: every checksum right, only the content lying.
public enum ContainerRewrite {
    /// Writes `path`'s data area to `newPath` with metadata changed by `transform` and a header that matches it.
    public static func rewriteMetadata(of path: String, to newPath: String, _ transform: (inout ContainerMetadata) -> Void) throws {
        let reader = try ContainerReader(path: path)
        var metadata = reader.metadata
        transform(&metadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try encoder.encode(metadata))
        var bytes = Array(try FileContents.read(path)[..<Int(reader.header.metadataOffset)])
        let metadataOffset = bytes.count
        bytes += json
        let header = ContainerHeader(
            alignment: reader.header.alignment, metadataOffset: UInt64(metadataOffset), metadataLength: UInt64(json.count),
            metadataChecksum: XXH64.hash(json), fileLength: UInt64(bytes.count))
        bytes.replaceSubrange(0..<ContainerHeader.size, with: header.bytes)
        try FileContents.write(bytes, to: newPath)
    }
}
