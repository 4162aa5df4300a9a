#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import WStreamFormat
import WStreamImport

/// Writes a synthetic Hugging Face model directory (config.json, bfloat16 safetensors, tokenizer files) of a given shape.
///
/// Used to test and benchmark wstream at real model sizes without downloading third-party weights. Values are
/// deterministic for a seed; generation runs on all cores, writing is sequential, and memory stays bounded by one
/// chunk of rows.
public enum SyntheticModel {
    /// Bytes of bfloat16 generated per chunk before it is written.
    static let chunkBytes = 16 << 20
    /// Target size of one safetensors shard when the caller does not choose a shard count.
    static let shardBytes = 1 << 30

    /// Writes `shape` into `directory` (created if needed).
    /// - Parameters:
    ///   - shape: the model's hyper-parameters.
    ///   - directory: output folder; existing files of the same names are replaced.
    ///   - seed: the same seed gives byte-identical files.
    ///   - shards: number of safetensors files; nil for about 1 GiB each. One shard is written as `model.safetensors`.
    ///   - progress: called after each chunk with bytes of weights written and the total.
    /// - Throws: `SynthError` for bad arguments, `ImportError.writeFailed` or `SynthError.writeFailed` for I/O errors.
    public static func write(
        shape: SyntheticShape, to directory: String, seed: UInt64, shards: Int? = nil,
        progress: (_ written: Int, _ total: Int) -> Void = { _, _ in }
    ) throws {
        if let shards, shards < 1 { throw SynthError.invalidArgument("shards must be at least 1, got \(shards)") }
        let spelling = try HuggingFaceSpelling(architecture: shape.config.architecture)
        let plan = try tensorPlan(for: shape.config, spelling: spelling)
        let total = plan.reduce(0) { $0 + $1.tensor.byteCount }
        let shardCount = min(max(shards ?? (total + shardBytes - 1) / shardBytes, 1), plan.count)
        try makeDirectory(directory)

        let groups = partition(plan, into: shardCount)
        let names = groups.indices.map { index in
            groups.count == 1
                ? "model.safetensors"
                : "model-\(fiveDigits(index + 1))-of-\(fiveDigits(groups.count)).safetensors"
        }
        let values = SyntheticValues(seed: seed)
        var written = 0
        for (group, name) in zip(groups, names) {
            let writer = try SafetensorsWriter(path: directory + "/" + name, tensors: group.map(\.tensor))
            try writeChunks(of: group, values: values, to: writer) { bytes in
                written += bytes
                progress(written, total)
            }
            try writer.finish(synchronize: false)
        }
        if groups.count > 1 {
            let weightMap = zip(groups, names).flatMap { group, name in
                group.map { ($0.tensor.name, JSONText.quoted(name)) }
            }
            let index = JSONText.object([
                ("metadata", JSONText.object([("total_size", "\(total)")], indent: "  ")),
                ("weight_map", JSONText.object(weightMap, indent: "  ")),
            ])
            try writeText(index + "\n", to: directory + "/model.safetensors.index.json")
        }
        let tokenizer = SyntheticTokenizer(config: shape.config)
        try writeText(SyntheticConfigFile.json(for: shape.config, spelling: spelling, tokenizer: tokenizer), to: directory + "/config.json")
        try writeText(tokenizer.tokenizerJSON, to: directory + "/tokenizer.json")
        try writeText(tokenizer.tokenizerConfigJSON, to: directory + "/tokenizer_config.json")
    }

    /// Bytes of bfloat16 weights `shape` writes.
    /// - Throws: `ImportError.unsupportedArchitecture` for a shape of a family this build does not know.
    public static func weightBytes(of shape: SyntheticShape) throws -> Int {
        try tensorPlan(for: shape.config, spelling: HuggingFaceSpelling(architecture: shape.config.architecture))
            .reduce(0) { $0 + $1.tensor.byteCount }
    }

    /// One tensor to write: its Hugging Face name and shape, and whether it is a norm weight.
    struct PlannedTensor: Sendable {
        let tensor: SafetensorsWriter.Tensor
        let index: Int
        let isNorm: Bool
        let rows: Int
        let cols: Int
    }

    /// Every tensor of `config` in canonical order, named and shaped as Hugging Face stores them.
    static func tensorPlan(for config: ModelConfig, spelling: HuggingFaceSpelling) throws -> [PlannedTensor] {
        try CanonicalLayout.expectedShapes(of: config).enumerated().map { index, expected in
            PlannedTensor(
                tensor: SafetensorsWriter.Tensor(
                    name: spelling.tensorName(expected.name), dtype: .bf16,
                    shape: spelling.storedShape(expected.name, canonicalShape: expected.shape)),
                index: index, isNorm: expected.name.hasSuffix("norm.weight"),
                rows: expected.shape.count == 2 ? expected.shape[0] : 1, cols: expected.shape.last!)
        }
    }

    /// Splits `plan` into `count` consecutive groups of roughly equal bytes.
    private static func partition(_ plan: [PlannedTensor], into count: Int) -> [[PlannedTensor]] {
        let total = plan.reduce(0) { $0 + $1.tensor.byteCount }
        var groups: [[PlannedTensor]] = [[]]
        var cumulative = 0
        for (position, entry) in plan.enumerated() {
            let tensorsLeft = plan.count - position
            let groupsLeft = count - groups.count
            let pastTarget = cumulative >= total * groups.count / count
            if !groups[groups.count - 1].isEmpty, groupsLeft > 0, pastTarget || tensorsLeft == groupsLeft {
                groups.append([])
            }
            groups[groups.count - 1].append(entry)
            cumulative += entry.tensor.byteCount
        }
        return groups
    }

    /// A run of rows of one tensor, generated and written as a unit.
    private struct Chunk: Sendable {
        let tensor: Int
        let isNorm: Bool
        let firstRow: Int
        let rows: Int
        let cols: Int
    }

    /// Generates the tensors of one shard chunk by chunk and appends them to `writer`.
    ///
    /// Two buffers form a pipeline: while this thread writes chunk i, the other cores generate chunk i+1,
    /// so generation hides behind the write (which the kernel's page-cache copy bounds).
    private static func writeChunks(
        of group: [PlannedTensor], values: SyntheticValues, to writer: SafetensorsWriter, wrote: (Int) -> Void
    ) throws {
        let chunkElements = chunkBytes / 2
        let chunks = group.flatMap { entry in
            let rowsPerChunk = max(1, min(entry.rows, chunkElements / entry.cols))
            return stride(from: 0, to: entry.rows, by: rowsPerChunk).map { first in
                Chunk(tensor: entry.index, isNorm: entry.isNorm, firstRow: first, rows: min(rowsPerChunk, entry.rows - first), cols: entry.cols)
            }
        }
        let capacity = chunks.map { $0.rows * $0.cols }.max() ?? 0
        let buffers = (0..<2).map { _ in SharedBuffer(pointer: .allocate(capacity: capacity)) }
        defer { buffers.forEach { $0.pointer.deallocate() } }

        if let first = chunks.first { generate(first, values: values, into: buffers[0]) }
        for (position, chunk) in chunks.enumerated() {
            let next = DispatchGroup()
            if position + 1 < chunks.count {
                let following = chunks[position + 1]
                let buffer = buffers[(position + 1) % 2]
                DispatchQueue.global().async(group: next) { generate(following, values: values, into: buffer) }
            }
            let filled = UnsafeBufferPointer(rebasing: buffers[position % 2].pointer[0..<(chunk.rows * chunk.cols)])
            try writer.appendEncoded(UnsafeRawBufferPointer(filled))
            wrote(chunk.rows * chunk.cols * 2)
            next.wait()
        }
    }

    /// Fills `buffer` with `chunk`'s rows, spread over all cores.
    private static func generate(_ chunk: Chunk, values: SyntheticValues, into buffer: SharedBuffer) {
        let pieces = min(chunk.rows, 4 * ProcessorCount.count)
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            for row in (chunk.rows * piece / pieces)..<(chunk.rows * (piece + 1) / pieces) {
                let output = UnsafeMutableBufferPointer(rebasing: buffer.pointer[(row * chunk.cols)..<((row + 1) * chunk.cols)])
                values.fillRow(tensor: chunk.tensor, row: chunk.firstRow + row, isNorm: chunk.isNorm, into: output)
            }
        }
    }

    private static func fiveDigits(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    private static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw SynthError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    private static func writeText(_ text: String, to path: String) throws {
        guard let file = fopen(path, "wb") else { throw SynthError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let count = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard fclose(file) == 0, count == bytes.count else {
            throw SynthError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// A chunk buffer handed to `@Sendable` closures; generation and writing never touch the same buffer at once,
/// and each generating piece writes a disjoint row range.
private struct SharedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableBufferPointer<UInt16>
}

/// Online processor count (`sysconf(_SC_NPROCESSORS_ONLN)`), without importing Foundation for `ProcessInfo`.
private enum ProcessorCount {
    static let count = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
