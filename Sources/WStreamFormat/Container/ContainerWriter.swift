#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// Writes a `.wst` file: into a temporary file beside the destination, fsynced and renamed on `finish`,
/// so an interrupted write never leaves a file at the destination.
///
/// Call order: `beginRegion`, then for each tensor of the region `beginTensor`, `appendBlock` once per
/// row block, `endTensor`; more regions; `finish`. Any error (including calls out of order) removes the
/// temporary file and ends the writer; so does releasing it without `finish`.
public final class ContainerWriter {
    public let destination: String
    public let alignment: Int
    /// `.<name>.tmp-<pid>` in the destination's folder, so the final `rename` stays on one file system.
    public let temporaryPath: String
    private let calls: any FileSystemCalls
    /// nil once finished or abandoned.
    private var output: BufferedFileOutput?
    private var regions: [RegionEntry] = []
    private var tensors: [TensorEntry] = []
    private var tensorNames = Set<String>()
    /// The tensor between `beginTensor` and `endTensor`.
    private var current: TensorEntry?

    /// Creates the temporary file and reserves the header.
    /// - Parameters:
    ///   - destination: the path of the finished file.
    ///   - alignment: regions start on multiples of this (a power of two, at least 64; 16 KiB by default).
    /// - Throws: `FormatError.io` naming the temporary path and the errno text when the folder is not writable.
    public convenience init(destination: String, alignment: Int = 16 * 1024) throws {
        try self.init(destination: destination, alignment: alignment, calls: PosixFileSystemCalls())
    }

    /// As the public initialiser, with the system calls replaceable (tests inject failures).
    init(destination: String, alignment: Int, calls: any FileSystemCalls) throws(FormatError) {
        self.destination = destination
        self.alignment = alignment
        self.calls = calls
        temporaryPath = WriterTemporaryFile.path(for: destination)
        guard alignment > 0, ContainerHeader.alignmentRange.contains(UInt64(alignment)), alignment.nonzeroBitCount == 1 else {
            throw .writerMisuse(file: destination, reason: "alignment \(alignment) is not a power of two between 64 and 1 GiB")
        }
        let output = try BufferedFileOutput(creating: temporaryPath, calls: calls)
        self.output = output
        do {
            try output.writeZeros(ContainerHeader.size)
        } catch {
            abandon()
            throw error
        }
    }

    deinit { abandon() }

    /// Tensors start on a multiple of this many bytes within their region.
    public static let tensorAlignment = 64

    /// Starts a new region on an alignment boundary (`embed`, `layer.<i>`, `head`).
    /// - Throws: `FormatError` when a tensor is still open, the name is taken, or writing fails.
    public func beginRegion(_ name: String) throws {
        try step { output throws(FormatError) in
            guard current == nil else { throw misuse("region \(name) begun while tensor \(current!.name) is open") }
            guard !regions.contains(where: { $0.name == name }) else { throw misuse("region \(name) begun twice") }
            let padding = (alignment - output.position % alignment) % alignment
            try output.writeZeros(padding)
            regions.append(RegionEntry(name: name, offset: UInt64(output.position), length: 0))
        }
    }

    /// Starts a tensor in the current region.
    /// - Parameters:
    ///   - name: unique within the file.
    ///   - shape: `[rows, cols]` or `[count]`.
    ///   - storage: how its decoded bytes are laid out.
    ///   - groupSize: the affine group size for the quantized types; 0 otherwise.
    ///   - rowsPerBlock: rows per block (the last block may be shorter).
    /// - Throws: `FormatError` when no region is open, a tensor is open, the name is taken, or the shape is inconsistent.
    public func beginTensor(name: String, shape: [Int], storage: StorageType, groupSize: Int, rowsPerBlock: Int) throws {
        try step { output throws(FormatError) in
            guard !regions.isEmpty else { throw misuse("tensor \(name) begun before any region") }
            guard current == nil else { throw misuse("tensor \(name) begun while tensor \(current!.name) is open") }
            guard !tensorNames.contains(name) else { throw misuse("tensor \(name) written twice") }
            let tensor = TensorEntry(
                name: name, shape: shape, storage: storage, groupSize: groupSize, region: regions.count - 1,
                rowsPerBlock: rowsPerBlock, framesPerBlock: 0, frames: [])
            try MetadataValidator.validateShape(tensor, file: destination)
            // Each tensor starts on a cache line, so that a raw tensor used where it is mapped or read keeps its rows'
            // SIMD loads aligned as the file lies.
            try output.writeZeros((Self.tensorAlignment - output.position % Self.tensorAlignment) % Self.tensorAlignment)
            current = tensor
        }
    }

    /// Appends one row block of the current tensor as already-encoded frames.
    /// - Parameter frames: the block's frames; their decoded lengths must add up to the block's decoded size,
    ///   and every block of a tensor must have the same number of frames.
    /// - Throws: `FormatError` on inconsistent frames or a failed write.
    public func appendBlock(_ frames: [EncodedFrame]) throws {
        try step { output throws(FormatError) in
            guard var tensor = current else { throw misuse("block appended outside a tensor") }
            if tensor.framesPerBlock == 0 { tensor.framesPerBlock = frames.count }
            let block = tensor.frames.count / max(1, tensor.framesPerBlock)
            guard !frames.isEmpty, frames.count == tensor.framesPerBlock else {
                throw misuse("block \(block) of \(tensor.name) has \(frames.count) frames, earlier blocks \(tensor.framesPerBlock)")
            }
            guard block < tensor.blockCount else { throw misuse("\(tensor.name) has only \(tensor.blockCount) blocks") }
            let decoded = frames.reduce(0) { $0 + $1.decodedLength }
            guard decoded == tensor.decodedByteCount(ofBlock: block) else {
                throw misuse("block \(block) of \(tensor.name) decodes to \(decoded) bytes, expected \(tensor.decodedByteCount(ofBlock: block))")
            }
            for frame in frames {
                guard frame.shuffle >= 1, frame.encoding != .raw || frame.stored.count == frame.decodedLength else {
                    throw misuse("a frame of \(tensor.name) has shuffle \(frame.shuffle), encoding \(frame.encoding.rawValue), \(frame.stored.count) stored and \(frame.decodedLength) decoded bytes")
                }
                let offset = UInt64(output.position)
                try output.write(frame.stored[...])
                tensor.frames.append(FrameEntry(
                    offset: offset, storedLength: UInt64(frame.stored.count), decodedLength: UInt64(frame.decodedLength),
                    checksum: frame.checksum, encoding: frame.encoding, shuffle: frame.shuffle))
            }
            current = tensor
            regions[regions.count - 1].length = UInt64(output.position) - regions[regions.count - 1].offset
        }
    }

    /// Ends the current tensor.
    /// - Parameter origin: where its stored values came from (`TensorEntry.origin`), known once every block is encoded.
    /// - Throws: `FormatError` when blocks are missing.
    public func endTensor(origin: String? = nil) throws {
        try step { _ throws(FormatError) in
            guard var tensor = current else { throw misuse("endTensor without beginTensor") }
            guard tensor.framesPerBlock > 0, tensor.frames.count == tensor.blockCount * tensor.framesPerBlock else {
                throw misuse("\(tensor.name) ended after \(tensor.frames.count / max(1, tensor.framesPerBlock)) of \(tensor.blockCount) blocks")
            }
            tensor.origin = origin
            tensors.append(tensor)
            tensorNames.insert(tensor.name)
            current = nil
        }
    }

    /// Writes metadata and header, fsyncs, renames the temporary file to the destination, and fsyncs its folder.
    /// - Throws: `FormatError` when a tensor is still open or any write, fsync or rename fails (the temporary file is then removed).
    public func finish(config: ModelConfig, tokenizer: TokenizerSpec, quantization: QuantizationInfo, producer: [String: String]) throws {
        try step { output throws(FormatError) in
            guard current == nil else { throw misuse("finish while tensor \(current!.name) is open") }
            let metadata = ContainerMetadata(
                config: config, tokenizer: tokenizer, quantization: quantization, regions: regions, tensors: tensors, producer: producer)
            let json: Data
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                json = try encoder.encode(metadata)
            } catch {
                throw misuse("the metadata cannot be encoded as JSON: \(error)")
            }
            let metadataOffset = output.position
            let checksum = json.withUnsafeBytes { XXH64.hash($0) }
            try output.write(Array(json)[...])
            let header = ContainerHeader(
                alignment: UInt64(alignment), metadataOffset: UInt64(metadataOffset), metadataLength: UInt64(json.count),
                metadataChecksum: checksum, fileLength: UInt64(output.position))
            try output.write(header.bytes[...], at: 0)
            try output.syncAndClose()
            guard calls.rename(temporaryPath, destination) == 0 else {
                throw .io(path: destination, operation: "rename from \(temporaryPath)", reason: errnoText())
            }
            self.output = nil
            try syncFolder()
        }
    }

    /// Runs one writer step on the open output; on any error removes the temporary file and ends the writer.
    private func step(_ body: (BufferedFileOutput) throws(FormatError) -> Void) throws(FormatError) {
        guard let output else { throw misuse("the writer has already finished or failed") }
        do {
            try body(output)
        } catch {
            abandon()
            throw error
        }
    }

    /// Closes and removes the temporary file, if it still exists.
    private func abandon() {
        guard output != nil else { return }
        output = nil
        _ = calls.unlink(temporaryPath)
    }

    /// `fsync` of the destination's folder, so the rename itself survives a crash.
    private func syncFolder() throws(FormatError) {
        let folder = destination.lastIndex(of: "/").map { String(destination[..<$0]) } ?? "."
        let descriptor = calls.open(folder.isEmpty ? "/" : folder, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0)
        guard descriptor >= 0 else { throw .io(path: folder, operation: "open folder for fsync", reason: errnoText()) }
        defer { _ = calls.close(descriptor) }
        guard calls.fsync(descriptor) == 0 else { throw .io(path: folder, operation: "fsync", reason: errnoText()) }
    }

    private func misuse(_ reason: String) -> FormatError { .writerMisuse(file: destination, reason: reason) }
}
