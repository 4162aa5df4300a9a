import FoundationEssentials
import WStreamFormat
import WStreamModel
import WStreamTokenizer

/// Opening a `.wst` file and generating with it: an input is a list of changes to a valid file, which is sealed
/// again (checksums of the header, the metadata and every frame recomputed) so that the changes reach the
/// validators and the model behind the checksums, not only the checksum checks.
///
/// Byte 0 sets how the input runs:
/// - bits 0–2: the base file (`ContainerBases.Base`): stories260K at 4 bits raw and compressed, 8 bits, 16 bits
///   compressed, 32 bits; a tiny Llama with an untied head, a tiny Qwen3, a tiny LFM2;
/// - bit 3: the model gets the smallest allowance, so its blocks stream; otherwise everything stays resident;
/// - bit 4: streamed blocks are read with `pread` past the page cache (`.direct`) rather than mapped;
/// - bit 5: frame checksums are left as the changes leave them (a moved frame then fails its checksum);
/// - bit 6: sample (temperature, top-k, top-p, penalties) rather than pick greedily;
/// - bit 7: the metadata is given as text: bytes 1 up to the first NUL replace the base's metadata JSON, and the
///   changes follow the NUL.
///
/// The rest is a list of `ContainerEdit`s (11 bytes each; a shorter tail is ignored). A metadata text that does not
/// decode goes into the file as it is, and its changes are ignored; a change that makes a float NaN or infinite
/// ends the input with the `EncodingError` of JSON, which cannot carry such a number. The file is opened from
/// memory through `MemoryReadCalls`, every frame's checksum checked (`verify`), the tokenizer built, and the model
/// loaded under its allowance; a file that opens ends with a generation of four tokens of "Once upon a time".
public final class ContainerTarget: FuzzTarget {
    public static let name = "wst"
    private let bases: ContainerBases
    private static let path = "fuzz-input.wst"

    /// - Parameter sharedModels: `../shared/models`, where stories260K is read from.
    /// - Throws: `FuzzingError.scratch` when the scratch folder cannot be made.
    public init(sharedModels: String) throws {
        bases = try ContainerBases(sharedModels: sharedModels)
    }

    public func run(_ input: UnsafeRawBufferPointer) throws {
        let options = input.first ?? 0
        let bytes = try file(for: input)
        let reader = try ContainerReader(path: Self.path, calls: MemoryReadCalls(path: Self.path, bytes: bytes))
        try reader.verify()
        let tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
        var modelOptions = LanguageModel.Options(contextLength: 32, budget: nil, threads: 1)
        modelOptions.streamingIO = options & 0x10 != 0 ? .direct : .mapped
        let needs = try LanguageModel.needs(reader: reader, options: modelOptions)
        modelOptions.allowance = options & 0x08 != 0 ? needs.minimumBytes : needs.fullyResidentBytes
        let model = try LanguageModel(reader: reader, tokenizer: tokenizer, options: modelOptions)
        var generation = GenerationOptions()
        generation.maxTokens = 4
        if options & 0x40 != 0 {
            generation.sampling.seed = 1
            generation.sampling.repetitionPenalty = 1.3
            generation.sampling.presencePenalty = 0.5
        } else {
            generation.sampling = .greedy
        }
        _ = try model.generate(promptIds: tokenizer.encode("Once upon a time"), options: generation)
    }

    /// The bytes of the file an input describes.
    /// - Throws: `ContainerBases`' errors when the base cannot be made.
    func file(for input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let options = input.first ?? 0
        let base = try bases.file(ContainerBases.Base(rawValue: Int(options & 7))!)
        var body = UnsafeRawBufferPointer(rebasing: input[min(1, input.count)...])
        var metadata: ContainerMetadata? = base.metadata
        var text: [UInt8]?
        if options & 0x80 != 0 {
            let parts = InputParts(body)
            text = Array(parts.first)
            metadata = try? JSONDecoder().decode(ContainerMetadata.self, from: Data(parts.first))
            body = parts.rest ?? UnsafeRawBufferPointer(start: nil, count: 0)
        }
        var surroundings = ContainerEdit.Surroundings(data: Array(base.bytes[..<Int(base.header.metadataOffset)]))
        var start = 0
        while start + ContainerEdit.byteCount <= body.count {
            let edit = ContainerEdit(UnsafeRawBufferPointer(rebasing: body[start..<start + ContainerEdit.byteCount]))
            if metadata != nil { edit.apply(to: &metadata!, &surroundings) }
            start += ContainerEdit.byteCount
        }
        let json: [UInt8]
        if var metadata {
            if options & 0x20 == 0 { Self.sealFrames(of: &metadata, in: surroundings.data) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            json = Array(try encoder.encode(metadata))
        } else {
            json = text ?? []
        }
        return Self.seal(surroundings, metadata: json, alignment: base.header.alignment)
    }

    /// Sets the checksum of every frame that lies inside `data` to that of its bytes there.
    private static func sealFrames(of metadata: inout ContainerMetadata, in data: [UInt8]) {
        data.withUnsafeBytes { data in
            for tensor in metadata.tensors.indices {
                for frame in metadata.tensors[tensor].frames.indices {
                    let entry = metadata.tensors[tensor].frames[frame]
                    let (end, overflow) = entry.offset.addingReportingOverflow(entry.storedLength)
                    guard !overflow, end <= UInt64(data.count) else { continue }
                    metadata.tensors[tensor].frames[frame].checksum = XXH64.hash(UnsafeRawBufferPointer(rebasing: data[Int(entry.offset)..<Int(end)]))
                }
            }
        }
    }

    /// The data area, then the metadata, under a header that matches them (with the header fields the edits set
    /// afterwards: 0 version, 1 alignment, 2 metadata offset, 3 metadata length, 4 metadata checksum, 5 file length).
    private static func seal(_ surroundings: ContainerEdit.Surroundings, metadata json: [UInt8], alignment: UInt64) -> [UInt8] {
        var bytes = surroundings.data + json
        var header = ContainerHeader(
            alignment: alignment, metadataOffset: UInt64(surroundings.data.count), metadataLength: UInt64(json.count),
            metadataChecksum: XXH64.hash(json), fileLength: UInt64(bytes.count))
        for (field, value) in surroundings.headerFields {
            switch field {
            case 0: header.version = UInt32(truncatingIfNeeded: value)
            case 1: header.alignment = value
            case 2: header.metadataOffset = value
            case 3: header.metadataLength = value
            case 4: header.metadataChecksum = value
            default: header.fileLength = value
            }
        }
        var headerBytes = header.bytes
        if surroundings.staleHeaderChecksum { headerBytes[56] ^= 0xFF }
        bytes.replaceSubrange(0..<ContainerHeader.size, with: headerBytes)
        if surroundings.lengthChange < 0 {
            bytes.removeLast(min(-surroundings.lengthChange, bytes.count))
        } else {
            bytes += [UInt8](repeating: 0, count: surroundings.lengthChange)
        }
        return bytes
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        func edit(_ operation: Int, _ index: Int, _ value: Int64) -> [UInt8] {
            [UInt8(operation), UInt8(index & 0xFF), UInt8(index >> 8)] + withUnsafeBytes(of: value.littleEndian) { Array($0) }
        }
        var seeds: [FuzzSeed] = []
        for base in ContainerBases.Base.allCases {
            let option = UInt8(base.rawValue)
            seeds.append(FuzzSeed(name: "\(base)", bytes: [option]))
            seeds.append(FuzzSeed(name: "\(base)-streamed-direct-sampled", bytes: [option | 0x08 | 0x10 | 0x40]))
        }
        seeds.append(FuzzSeed(name: "storiesQ4-group-16", bytes: [0] + edit(27, 1, 16)))
        seeds.append(FuzzSeed(name: "storiesQ4-nan-scale", bytes: [0x08] + edit(39, 0, 0x7E00_0000_4000)))
        seeds.append(FuzzSeed(name: "storiesQ4-rows-per-block", bytes: [0] + edit(29, 3, 7)))
        seeds.append(FuzzSeed(name: "storiesQ4-bos-out-of-range", bytes: [0] + edit(16, 0, 4096)))
        let metadata = try bases.file(.storiesQ4).metadata
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        seeds.append(FuzzSeed(name: "storiesQ4-text", bytes: [0x80] + Array(try encoder.encode(metadata))))
        return seeds
    }
}
