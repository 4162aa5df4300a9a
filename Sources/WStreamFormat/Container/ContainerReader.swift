#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd
import FoundationEssentials

/// A `.wst` file opened through `mmap`, validated before anything is used.
///
/// Opening checks the header, the metadata's bounds and checksum, and every region and frame
/// against the file size, so no later call reads outside the mapping. Frames are checked against
/// their XXH64 each time they are decoded. Safe to use from many threads (each with its own `FrameDecoder`).
public final class ContainerReader: @unchecked Sendable {
    public let path: String
    public let header: ContainerHeader
    public let metadata: ContainerMetadata
    private let file: MappedFile
    private let tensorIndex: [String: Int]
    private let regionIndexByName: [String: Int]

    /// Maps the file and validates header, metadata checksum and the bounds of every frame and region.
    /// - Parameter path: the `.wst` file.
    /// - Throws: `FormatError` naming the file and the problem.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path, minimumSize: ContainerHeader.size)
        let bytes = file.bytes
        header = try ContainerHeader(parsing: bytes, file: path)
        let fileSize = UInt64(bytes.count)
        guard header.fileLength == fileSize else {
            throw FormatError.fileLengthMismatch(file: path, expected: header.fileLength, found: fileSize)
        }
        let (metadataEnd, overflow) = header.metadataOffset.addingReportingOverflow(header.metadataLength)
        guard !overflow, header.metadataOffset >= UInt64(ContainerHeader.size), metadataEnd <= fileSize else {
            throw FormatError.metadataOutOfBounds(file: path, offset: header.metadataOffset, length: header.metadataLength, fileSize: fileSize)
        }
        let metadataBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(header.metadataOffset)..<Int(metadataEnd)])
        let checksum = XXH64.hash(metadataBytes)
        guard checksum == header.metadataChecksum else {
            throw FormatError.metadataChecksumMismatch(file: path, offset: header.metadataOffset, expected: header.metadataChecksum, found: checksum)
        }
        do {
            metadata = try JSONDecoder().decode(ContainerMetadata.self, from: Data(metadataBytes))
        } catch {
            throw FormatError.metadataUndecodable(file: path, reason: String(describing: error))
        }
        try MetadataValidator.validate(metadata, alignment: header.alignment, dataEnd: header.metadataOffset, file: path)
        tensorIndex = Dictionary(uniqueKeysWithValues: metadata.tensors.enumerated().map { ($1.name, $0) })
        regionIndexByName = Dictionary(uniqueKeysWithValues: metadata.regions.enumerated().map { ($1.name, $0) })
        // The metadata is parsed: its mapped pages (megabytes for a large vocabulary) need not stay resident.
        adviseDontNeed(fileRange: Int(header.metadataOffset)..<Int(metadataEnd))
    }

    /// Size of the file in bytes.
    public var fileSize: Int { file.bytes.count }

    /// The alignment regions start on (a power of two, 16 KiB by default).
    public var alignment: Int { Int(header.alignment) }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> TensorEntry? {
        tensorIndex[name].map { metadata.tensors[$0] }
    }

    /// Index of the region called `name` (`embed`, `layer.3`, `head`).
    public func regionIndex(named name: String) -> Int? { regionIndexByName[name] }

    /// Tensors stored in region `index`, in file order.
    public func tensors(inRegion index: Int) -> [TensorEntry] {
        metadata.tensors.filter { $0.region == index }.sorted { ($0.frames.first?.offset ?? 0) < ($1.frames.first?.offset ?? 0) }
    }

    /// The stored (still encoded) bytes of `frame`, a view into the mapping.
    ///
    /// `frame` must come from this reader's metadata: its bounds were checked when the file was opened.
    public func frameBytes(_ frame: FrameEntry) -> UnsafeRawBufferPointer {
        let start = Int(frame.offset)
        precondition(frame.offset <= UInt64(fileSize) && frame.storedLength <= UInt64(fileSize - start), "frame outside \(path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<start + Int(frame.storedLength)])
    }

    /// Decodes all frames of `tensor` into `destination` (at least `tensor.decodedByteCount` bytes),
    /// verifying every frame's checksum first.
    /// - Throws: `FormatError.checksumMismatch` or `.decodeFailed` naming the tensor and frame.
    public func decodeTensor(_ tensor: TensorEntry, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws {
        precondition(destination.count >= tensor.decodedByteCount, "destination holds \(destination.count) bytes, \(tensor.name) needs \(tensor.decodedByteCount)")
        try decodeFrames(tensor, tensor.frames.indices, into: destination, using: decoder)
    }

    /// Decodes row block `block` of `tensor` into `destination`; returns the decoded byte count.
    /// - Throws: `FormatError.checksumMismatch` or `.decodeFailed` naming the tensor and frame.
    @discardableResult
    public func decodeBlock(_ tensor: TensorEntry, block: Int, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws -> Int {
        precondition((0..<tensor.blockCount).contains(block), "block \(block) of \(tensor.name) outside 0..<\(tensor.blockCount)")
        let count = tensor.decodedByteCount(ofBlock: block)
        precondition(destination.count >= count, "destination holds \(destination.count) bytes, block \(block) of \(tensor.name) needs \(count)")
        try decodeFrames(tensor, tensor.frameRange(ofBlock: block), into: destination, using: decoder)
        return count
    }

    /// Decodes frame `frameIndex` of `tensor` alone into the start of `destination`; returns its decoded length.
    ///
    /// For callers that spread one tensor's frames over several threads or release the file's pages frame by frame.
    /// - Throws: `FormatError.checksumMismatch` or `.decodeFailed` naming the tensor and frame.
    @discardableResult
    public func decodeFrame(_ tensor: TensorEntry, frameIndex: Int, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws -> Int {
        precondition(tensor.frames.indices.contains(frameIndex), "frame \(frameIndex) of \(tensor.name) outside 0..<\(tensor.frames.count)")
        let length = Int(tensor.frames[frameIndex].decodedLength)
        precondition(destination.count >= length, "destination holds \(destination.count) bytes, frame \(frameIndex) of \(tensor.name) needs \(length)")
        try decodeFrames(tensor, frameIndex..<frameIndex + 1, into: destination, using: decoder)
        return length
    }

    /// Byte offset of row block `block` within the decoded tensor.
    public func decodedOffset(of tensor: TensorEntry, block: Int) -> Int {
        tensor.decodedOffset(ofBlock: block)
    }

    /// Checks the checksum of every frame and that every zstd frame declares its decoded size
    /// (no decompression); reports progress as (frames done, total).
    /// - Throws: `FormatError.checksumMismatch` (or `.decodeFailed`) naming the first damaged tensor.
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws {
        let total = metadata.tensors.reduce(0) { $0 + $1.frames.count }
        var done = 0
        for tensor in metadata.tensors {
            for (index, frame) in tensor.frames.enumerated() {
                let stored = try checkedFrameBytes(tensor, index)
                if frame.encoding == .zstd {
                    // ZSTD_getFrameContentSize answers 0ULL-1 (unknown) or 0ULL-2 (error), never a real size, when it cannot tell.
                    let declared = ZSTD_getFrameContentSize(stored.baseAddress, stored.count)
                    let consumed = ZSTD_findFrameCompressedSize(stored.baseAddress, stored.count)
                    guard declared == frame.decodedLength, ZSTD_isError(consumed) == 0, consumed == stored.count else {
                        throw FormatError.decodeFailed(
                            file: path, tensor: tensor.name, frameIndex: index, offset: frame.offset,
                            reason: "the zstd frame does not declare \(frame.decodedLength) decoded bytes in \(stored.count) stored bytes")
                    }
                }
                done += 1
                progress?(done, total)
            }
        }
    }

    /// `madvise(MADV_WILLNEED)` over region `index`: start reading it from disk ahead of use.
    public func adviseWillNeed(region index: Int) {
        let region = metadata.regions[index]
        file.advise(offset: Int(region.offset), length: Int(region.length), MADV_WILLNEED)
    }

    /// `madvise(MADV_DONTNEED)` over region `index`: drop its mapped pages from this process's resident set.
    public func adviseDontNeed(region index: Int) {
        let region = metadata.regions[index]
        file.advise(offset: Int(region.offset), length: Int(region.length), MADV_DONTNEED)
    }

    /// `madvise(MADV_DONTNEED)` over `range` widened to whole `releaseWindow`s (2 MiB aligned), clipped to the file.
    ///
    /// One read fault on a file mapping can map far more than the page it touched: fault-around, and on
    /// current kernels the whole large folio the page cache holds it in (measured here on Linux 6.18: one
    /// touched byte mapped up to 512 KiB). Releasing only the frame's own pages let those neighbours
    /// accumulate (reading one embedding block per token grew RSS by ~150 KB a token). Pages of neighbouring
    /// frames are dropped as well; they are mapped again from the page cache if touched.
    public func adviseDontNeed(fileRange range: Range<Int>) {
        let window = Self.releaseWindow
        let start = range.lowerBound / window * window
        let end = (range.upperBound + window - 1) / window * window
        file.advise(offset: start, length: min(end, fileSize) - start, MADV_DONTNEED)
    }

    /// The largest page-cache folio a fault may map (a PMD, 2 MiB): release ranges are widened to it,
    /// and up to one such window beyond what was read can be resident at a time.
    public static let releaseWindow = 2 << 20

    /// `madvise(MADV_WILLNEED)` over the pages covering `range` (rounded outward to whole pages, clipped to the file).
    public func adviseWillNeed(fileRange range: Range<Int>) {
        file.advise(offset: range.lowerBound, length: range.count, MADV_WILLNEED)
    }

    /// The stored bytes of frame `index` of `tensor`, after checking their XXH64.
    private func checkedFrameBytes(_ tensor: TensorEntry, _ index: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        let frame = tensor.frames[index]
        let stored = frameBytes(frame)
        let found = XXH64.hash(stored)
        guard found == frame.checksum else {
            throw .checksumMismatch(file: path, tensor: tensor.name, frameIndex: index, offset: frame.offset, expected: frame.checksum, found: found)
        }
        return stored
    }

    /// Decodes frames `indices` of `tensor` one after the other into `destination`.
    private func decodeFrames(_ tensor: TensorEntry, _ indices: Range<Int>, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws(FormatError) {
        var position = 0
        for index in indices {
            let frame = tensor.frames[index]
            let stored = try checkedFrameBytes(tensor, index)
            let length = Int(frame.decodedLength)
            let target = UnsafeMutableRawBufferPointer(rebasing: destination[position..<position + length])
            if let failure = decoder.decode(stored, encoding: frame.encoding, shuffle: frame.shuffle, decodedLength: length, into: target) {
                throw .decodeFailed(file: path, tensor: tensor.name, frameIndex: index, offset: frame.offset, reason: failure)
            }
            position += length
        }
    }
}
