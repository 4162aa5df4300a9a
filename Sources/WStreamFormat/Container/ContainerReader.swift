import CZstd
import FoundationEssentials
import Synchronization

/// A `.wst` file opened for reading, validated before anything is used.
///
/// Opening reads the header and the metadata (with `pread`: nothing is mapped) and checks the header, the
/// metadata's checksum, and every region and frame against the file size, so no later read can reach outside the
/// file. Frames are read on demand: a block at a time (`readBlock`), or from bytes the caller has read or mapped
/// (`decode(_:blocks:stored:into:using:)`). Each frame's XXH64 is checked the first time this reader sees it;
/// later passes over the same frame trust it (`verify()` checks them all at once).
///
/// Safe to use from many threads, each with its own `FrameDecoder`.
public final class ContainerReader: @unchecked Sendable {
    public let path: String
    public let header: ContainerHeader
    public let metadata: ContainerMetadata
    package let file: ReadOnlyFile
    private let tensorIndex: [String: Int]
    private let regionIndexByName: [String: Int]
    /// The number of each tensor's first frame among all frames of the file.
    private let firstFrameNumber: [Int]
    /// One bit per frame: its checksum has been checked.
    private let verifiedFrames: Mutex<[UInt64]>

    /// Opens and validates `path`.
    /// - Throws: `FormatError` naming the file and the problem.
    public convenience init(path: String) throws {
        try self.init(path: path, calls: PosixReadCalls())
    }

    /// Opens and validates `path`, reading through `calls` (tests inject faults there).
    package init(path: String, calls: any ReadCalls) throws {
        self.path = path
        let file = try ReadOnlyFile(path: path, calls: calls)
        self.file = file
        guard file.size >= ContainerHeader.size else { throw FormatError.tooShort(file: path, size: file.size, needed: ContainerHeader.size) }
        var headerBytes = [UInt8](repeating: 0, count: ContainerHeader.size)
        try headerBytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        let header = try headerBytes.withUnsafeBytes { try ContainerHeader(parsing: $0, file: path) }
        self.header = header
        let fileSize = UInt64(file.size)
        guard header.fileLength == fileSize else {
            throw FormatError.fileLengthMismatch(file: path, expected: header.fileLength, found: fileSize)
        }
        let (metadataEnd, overflow) = header.metadataOffset.addingReportingOverflow(header.metadataLength)
        guard !overflow, header.metadataOffset >= UInt64(ContainerHeader.size), metadataEnd <= fileSize else {
            throw FormatError.metadataOutOfBounds(file: path, offset: header.metadataOffset, length: header.metadataLength, fileSize: fileSize)
        }
        var metadataBytes = [UInt8](repeating: 0, count: Int(header.metadataLength))
        try metadataBytes.withUnsafeMutableBytes { try file.read(into: $0, at: Int(header.metadataOffset)) }
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
        var numbers: [Int] = []
        var frameCount = 0
        for tensor in metadata.tensors {
            numbers.append(frameCount)
            frameCount += tensor.frames.count
        }
        firstFrameNumber = numbers
        verifiedFrames = Mutex([UInt64](repeating: 0, count: (frameCount + 63) / 64))
    }

    /// Size of the file in bytes.
    public var fileSize: Int { file.size }

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

    /// The file bytes that hold the frames of `blocks` of `tensor` (frames of a block follow each other; the
    /// blocks of a tensor too, in every file the writer makes; see `isStoredAsDecoded` for when that matters).
    public func storedRange(of tensor: TensorEntry, blocks: Range<Int>) -> Range<Int> {
        let frames = tensor.frames[tensor.frameRange(ofBlock: blocks.lowerBound).lowerBound..<tensor.frameRange(ofBlock: blocks.upperBound - 1).upperBound]
        let start = frames.map { Int($0.offset) }.min()!
        let end = frames.map { Int($0.offset + $0.storedLength) }.max()!
        return start..<end
    }

    /// Whether the stored bytes of `blocks` of `tensor` are exactly their decoded bytes: every frame raw and not
    /// shuffled, each directly after the one before. Such blocks can be read straight into place, or computed on
    /// where they are mapped.
    public func isStoredAsDecoded(_ tensor: TensorEntry, blocks: Range<Int>) -> Bool {
        var next = UInt64(storedRange(of: tensor, blocks: blocks).lowerBound)
        for index in tensor.frameRange(ofBlock: blocks.lowerBound).lowerBound..<tensor.frameRange(ofBlock: blocks.upperBound - 1).upperBound {
            let frame = tensor.frames[index]
            guard frame.encoding == .raw, frame.shuffle <= 1, frame.offset == next else { return false }
            next = frame.offset + frame.storedLength
        }
        return true
    }

    /// Decodes `blocks` of `tensor` into `destination` (at least their decoded size) from `stored`, file bytes that
    /// hold their frames (a mapped window, or bytes read), checking each frame's checksum the first time it is seen.
    /// - Throws: `FormatError.checksumMismatch` or `.decodeFailed` naming the tensor and frame.
    public func decode(
        _ tensor: TensorEntry, blocks: Range<Int>, stored: StoredBytes, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder
    ) throws(FormatError) {
        let frames = tensor.frameRange(ofBlock: blocks.lowerBound).lowerBound..<tensor.frameRange(ofBlock: blocks.upperBound - 1).upperBound
        var position = 0
        for index in frames {
            let frame = tensor.frames[index]
            let bytes = stored.bytes(of: frame)
            try check(tensor, frame: index, bytes)
            let length = Int(frame.decodedLength)
            precondition(position + length <= destination.count, "destination too small for \(tensor.name)")
            let target = UnsafeMutableRawBufferPointer(rebasing: destination[position..<position + length])
            if let failure = decoder.decode(bytes, encoding: frame.encoding, shuffle: frame.shuffle, decodedLength: length, into: target) {
                throw .decodeFailed(file: path, tensor: tensor.name, frameIndex: index, offset: frame.offset, reason: failure)
            }
            position += length
        }
    }

    /// Checks the checksum of frames of `tensor` whose stored bytes are `stored`, for blocks stored as decoded and
    /// used where they lie (no `decode` call).
    /// - Parameter everyTime: check even frames this reader has checked before: for bytes read from the disk again
    ///   (`O_DIRECT`), which the page cache does not hold between passes.
    /// - Throws: `FormatError.checksumMismatch` naming the tensor and frame.
    public func checkFrames(_ tensor: TensorEntry, blocks: Range<Int>, stored: StoredBytes, everyTime: Bool = false) throws(FormatError) {
        for index in tensor.frameRange(ofBlock: blocks.lowerBound).lowerBound..<tensor.frameRange(ofBlock: blocks.upperBound - 1).upperBound {
            try check(tensor, frame: index, stored.bytes(of: tensor.frames[index]), remember: !everyTime)
        }
    }

    /// Reads row block `block` of `tensor` from the file and decodes it into `destination`; returns its decoded size.
    /// - Throws: `FormatError.io` for a failed read, `.checksumMismatch` or `.decodeFailed` naming the tensor and frame.
    @discardableResult
    public func readBlock(_ tensor: TensorEntry, block: Int, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws(FormatError) -> Int {
        precondition((0..<tensor.blockCount).contains(block), "block \(block) of \(tensor.name) outside 0..<\(tensor.blockCount)")
        let count = tensor.decodedByteCount(ofBlock: block)
        precondition(destination.count >= count, "destination holds \(destination.count) bytes, block \(block) of \(tensor.name) needs \(count)")
        let range = storedRange(of: tensor, blocks: block..<block + 1)
        if isStoredAsDecoded(tensor, blocks: block..<block + 1) {
            let target = UnsafeMutableRawBufferPointer(rebasing: destination[0..<range.count])
            try file.read(into: target, at: range.lowerBound)
            try checkFrames(tensor, blocks: block..<block + 1, stored: StoredBytes(UnsafeRawBufferPointer(target), fileOffset: range.lowerBound))
            return count
        }
        let staging = decoder.stagingBuffer(range.count)
        try file.read(into: staging, at: range.lowerBound)
        try decode(tensor, blocks: block..<block + 1, stored: StoredBytes(UnsafeRawBufferPointer(staging), fileOffset: range.lowerBound),
                   into: destination, using: decoder)
        return count
    }

    /// Checks the checksum of every frame and that every zstd frame declares its decoded size (no decompression),
    /// reading the file frame by frame; reports progress as (frames done, total).
    /// - Throws: `FormatError.checksumMismatch` (or `.decodeFailed`, `.io`) naming the first damaged tensor.
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws {
        let total = metadata.tensors.reduce(0) { $0 + $1.frames.count }
        var done = 0
        var buffer = [UInt8]()
        for tensor in metadata.tensors {
            for (index, frame) in tensor.frames.enumerated() {
                let length = Int(frame.storedLength)
                if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
                try buffer.withUnsafeMutableBytes { all in
                    let stored = UnsafeMutableRawBufferPointer(rebasing: all[0..<length])
                    try file.read(into: stored, at: Int(frame.offset))
                    try check(tensor, frame: index, UnsafeRawBufferPointer(stored), remember: false)
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
                }
                done += 1
                progress?(done, total)
            }
        }
    }

    /// Checks frame `index` of `tensor` against its XXH64 unless this reader has done so before.
    private func check(_ tensor: TensorEntry, frame index: Int, _ stored: UnsafeRawBufferPointer, remember: Bool = true) throws(FormatError) {
        let number = firstFrameNumber[tensorIndex[tensor.name]!] + index
        let mask = UInt64(1) << (number % 64)
        if remember, verifiedFrames.withLock({ $0[number / 64] & mask != 0 }) { return }
        let frame = tensor.frames[index]
        let found = XXH64.hash(stored)
        guard found == frame.checksum else {
            throw .checksumMismatch(file: path, tensor: tensor.name, frameIndex: index, offset: frame.offset, expected: frame.checksum, found: found)
        }
        if remember { verifiedFrames.withLock { $0[number / 64] |= mask } }
    }
}

/// File bytes in memory (read, or a mapped window) and where they start in the file.
public struct StoredBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    public let fileOffset: Int

    public init(_ bytes: UnsafeRawBufferPointer, fileOffset: Int) {
        self.bytes = bytes
        self.fileOffset = fileOffset
    }

    /// The stored bytes of `frame`, which must lie inside these bytes.
    func bytes(of frame: FrameEntry) -> UnsafeRawBufferPointer {
        let start = Int(frame.offset) - fileOffset
        precondition(start >= 0 && start + Int(frame.storedLength) <= bytes.count, "frame at \(frame.offset) outside the bytes read")
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + Int(frame.storedLength)])
    }
}
