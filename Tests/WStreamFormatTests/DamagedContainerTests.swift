import Testing
import TestSupport
@testable import WStreamFormat

@Suite struct DamagedContainerTests {
    let directory = TemporaryDirectory("wst-damage")

    /// Writes the fixture and returns its path and bytes.
    private func fixture() throws -> (path: String, bytes: [UInt8], reader: ContainerReader) {
        let path = directory.file("good.wst")
        try ContainerFixture.write(to: path, alignment: 4096)
        return (path, try FileContents.read(path), try ContainerReader(path: path))
    }

    /// Opens `bytes` as a file and returns the FormatError it must raise.
    private func openError(_ bytes: [UInt8], name: String = "bad.wst") throws -> FormatError {
        let path = directory.file(name)
        try FileContents.write(bytes, to: path)
        do {
            _ = try ContainerReader(path: path)
        } catch let error as FormatError {
            #expect(error.description.hasPrefix(path + ": "))
            return error
        }
        Issue.record("\(name) opened although it is damaged")
        throw FormatError.writerMisuse(file: path, reason: "expected an error")
    }

    @Test func truncationAnywhereIsRejected() throws {
        let (_, bytes, reader) = try fixture()
        let metadataOffset = Int(reader.header.metadataOffset)
        // 20 lengths: inside the header, across the data, inside the metadata, one byte short.
        let data = (1...6).map { 4096 + (metadataOffset - 4096) * $0 / 7 }
        let lengths = [0, 1, 8, 40, 63, 64, 65, 4096, 4097] + data + [metadataOffset - 1, metadataOffset, metadataOffset + 1,
                       (metadataOffset + bytes.count) / 2, bytes.count - 1]
        #expect(Set(lengths).count == 20)
        for length in lengths {
            let error = try openError(Array(bytes[..<length]), name: "truncated-\(length).wst")
            switch error {
            case .tooShort(_, let size, _): #expect(size == length && length < 64)
            case .fileLengthMismatch(_, let expected, let found):
                #expect(expected == UInt64(bytes.count) && found == UInt64(length))
                #expect(error.description.contains("truncated"))
            default: Issue.record("truncation at \(length) gave \(error)")
            }
        }
    }

    @Test func aFlippedBitInTheHeaderIsCaught() throws {
        let (_, bytes, _) = try fixture()
        for bit in stride(from: 0, to: 64 * 8, by: 13) {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << (bit % 8)
            let error = try openError(damaged, name: "header-\(bit).wst")
            switch error {
            case .badMagic: #expect(bit < 64)
            case .headerChecksumMismatch: #expect(bit >= 64)
            default: Issue.record("bit \(bit) of the header gave \(error)")
            }
        }
    }

    @Test func aWrongMagicNamesWhatWasFound() throws {
        let (_, bytes, _) = try fixture()
        var damaged = bytes
        damaged.replaceSubrange(0..<8, with: Array("GGUF\u{3}\0\0\0".utf8))
        let error = try openError(damaged)
        #expect(error == .badMagic(file: directory.file("bad.wst"), found: [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]))
        #expect(error.description.contains("not a wstream container"))
    }

    @Test func aFlippedBitInTheMetadataIsCaught() throws {
        let (_, bytes, reader) = try fixture()
        let start = Int(reader.header.metadataOffset)
        for offset in [start, start + 17, (start + bytes.count) / 2, bytes.count - 1] {
            var damaged = bytes
            damaged[offset] ^= 0x10
            let error = try openError(damaged, name: "metadata-\(offset).wst")
            guard case .metadataChecksumMismatch(_, let at, _, _) = error else {
                Issue.record("metadata byte \(offset) gave \(error)")
                continue
            }
            #expect(at == UInt64(start))
            #expect(error.description.contains("metadata is damaged"))
        }
    }

    @Test func aFlippedBitInAFrameIsCaughtByVerifyAndByDecodeNamingTheTensor() throws {
        let (_, bytes, good) = try fixture()
        let tensor = try #require(good.tensor(named: "blk.0.attn_q.weight"))
        let frame = tensor.frames[1]
        var damaged = bytes
        damaged[Int(frame.offset) + Int(frame.storedLength) / 2] ^= 0x01
        let path = directory.file("frame.wst")
        try FileContents.write(damaged, to: path)
        let reader = try ContainerReader(path: path)

        let verifyError = #expect(throws: FormatError.self) { try reader.verify() }
        guard case .checksumMismatch(_, let name, let index, let offset, let expected, _)? = verifyError else {
            Issue.record("verify gave \(String(describing: verifyError))")
            return
        }
        #expect(name == tensor.name && index == 1 && offset == frame.offset && expected == frame.checksum)
        #expect(verifyError?.description.contains("frame 1 of tensor blk.0.attn_q.weight is damaged") == true)

        let decodeError = #expect(throws: FormatError.self) { try reader.decodedBytes(of: tensor) }
        #expect(decodeError == verifyError)
        // Blocks whose frames are intact still decode.
        var out = [UInt8](repeating: 0, count: tensor.decodedByteCount)
        try out.withUnsafeMutableBytes { _ = try reader.readBlock(tensor, block: 0, into: $0, using: FrameDecoder()) }
    }

    @Test func aZstdFrameThatDeclaresTheWrongSizeFailsVerifyAndDecode() throws {
        let (path, _, _) = try fixture()
        let hostile = directory.file("size.wst")
        var target = ""
        try ContainerRewrite.rewriteMetadata(of: path, to: hostile) { metadata in
            // Swap two zstd frames' decoded lengths inside one block: the block total still matches.
            let index = metadata.tensors.firstIndex { $0.name == "blk.1.ffn_down.weight" }!
            target = metadata.tensors[index].name
            metadata.tensors[index].rowsPerBlock = 300
            let frames = metadata.tensors[index].frames
            let merged = FrameEntry(
                offset: frames[0].offset, storedLength: frames[0].storedLength,
                decodedLength: frames.reduce(0) { $0 + $1.decodedLength }, checksum: frames[0].checksum,
                encoding: .zstd, shuffle: 4)
            metadata.tensors[index].frames = [merged]
        }
        let reader = try ContainerReader(path: hostile)
        let tensor = try #require(reader.tensor(named: target))
        #expect(throws: FormatError.self) { try reader.verify() }
        let error = #expect(throws: FormatError.self) { try reader.decodedBytes(of: tensor) }
        guard case .decodeFailed(_, let name, 0, _, _)? = error else {
            Issue.record("decode gave \(String(describing: error))")
            return
        }
        #expect(name == target)
    }

    @Test func hostileMetadataIsRejectedAtOpen() throws {
        let (path, bytes, _) = try fixture()
        let cases: [(String, (inout ContainerMetadata) -> Void)] = [
            ("frame beyond the end", { $0.tensors[0].frames[0].offset = UInt64(bytes.count + 100) }),
            ("frame offset overflowing", { $0.tensors[0].frames[0].offset = UInt64.max - 2 }),
            ("frame outside its region", { $0.tensors[0].frames[0].offset = $0.regions[1].offset }),
            ("stored length beyond the region", { $0.tensors[1].frames[0].storedLength = 1 << 40 }),
            ("unaligned region", { $0.regions[1].offset += 512 }),
            ("region past the data", { $0.regions[3].length = 1 << 50 }),
            ("overlapping regions", { $0.regions[2].offset = $0.regions[1].offset }),
            ("region index out of range", { $0.tensors[0].region = 99 }),
            ("frame count not blocks times framesPerBlock", { $0.tensors[0].framesPerBlock = 4 }),
            ("decoded length not the shape's", { $0.tensors[2].shape = [7, 34] }),
            ("raw frame with a different decoded length", {
                $0.tensors[4].frames[0].decodedLength += 1
                $0.tensors[4].frames[1].decodedLength -= 1
            }),
            ("zero shuffle", { $0.tensors[3].frames[0].shuffle = 0 }),
            ("negative rows per block", { $0.tensors[3].rowsPerBlock = -1 }),
            ("huge shape", { $0.tensors[3].shape = [Int.max, Int.max] }),
            ("huge rows per block", { $0.tensors[3].rowsPerBlock = Int.max }),
            ("rows per block beyond the rows of a one-block tensor", { $0.tensors[1].rowsPerBlock = 1 << 60 }),
            ("q4 without a group size", { $0.tensors[0].groupSize = 0 }),
            ("three-dimensional shape", { $0.tensors[1].shape = [1, 1, 37] }),
            ("duplicate tensor", { $0.tensors[1].name = $0.tensors[2].name }),
            ("duplicate region", { $0.regions[1].name = "embed" }),
        ]
        for (label, transform) in cases {
            let hostile = directory.file("hostile.wst")
            try ContainerRewrite.rewriteMetadata(of: path, to: hostile, transform)
            do {
                _ = try ContainerReader(path: hostile)
                Issue.record("\(label): opened")
            } catch let error as FormatError {
                switch error {
                case .invalidTensor, .invalidRegion: #expect(error.description.contains(" is invalid: "), "\(label)")
                default: Issue.record("\(label): \(error)")
                }
            }
        }
    }

    /// The kernels read q4/q8 groups in whole chunks of 32 columns: a file that says otherwise is refused at open,
    /// however valid its checksums, before any kernel could read past a group.
    @Test(arguments: [16, 48, 8192])
    func aGroupSizeTheKernelsCannotReadIsRefusedAtOpen(groupSize: Int) throws {
        let (path, _, _) = try fixture()
        let hostile = directory.file("group-\(groupSize).wst")
        try ContainerRewrite.rewriteMetadata(of: path, to: hostile) { $0.tensors[0].groupSize = groupSize }
        let error = #expect(throws: FormatError.self) { try ContainerReader(path: hostile) }
        #expect(error?.description.contains("group size \(groupSize) does not fit") == true, "\(String(describing: error))")
    }

    @Test func metadataThatIsNotJSONIsRejected() throws {
        let path = directory.file("json.wst")
        let json = Array("{\"config\": 1".utf8)
        let header = ContainerHeader(
            alignment: 4096, metadataOffset: 64, metadataLength: UInt64(json.count), metadataChecksum: XXH64.hash(json),
            fileLength: UInt64(64 + json.count))
        try FileContents.write(header.bytes + json, to: path)
        #expect {
            try ContainerReader(path: path)
        } throws: { error in
            guard case .metadataUndecodable = error as? FormatError else { return false }
            return true
        }
    }

    @Test func headerFieldsOutOfRangeAreRejected() throws {
        func file(_ header: ContainerHeader, length: Int = 200) -> [UInt8] {
            header.bytes + [UInt8](repeating: 0, count: length - 64)
        }
        let base = ContainerHeader(alignment: 4096, metadataOffset: 100, metadataLength: 50, metadataChecksum: 0, fileLength: 200)
        var version = base
        version.version = 2
        var alignment = base
        alignment.alignment = 3000
        var metadataBeyond = base
        metadataBeyond.metadataLength = 500
        var metadataOverflow = base
        metadataOverflow.metadataOffset = UInt64.max - 10
        var metadataInHeader = base
        metadataInHeader.metadataOffset = 10
        let checks: [(ContainerHeader, (FormatError) -> Bool)] = [
            (version, { if case .unsupportedVersion(_, 2, 1) = $0 { true } else { false } }),
            (alignment, { if case .badAlignment(_, 3000) = $0 { true } else { false } }),
            (metadataBeyond, { if case .metadataOutOfBounds = $0 { true } else { false } }),
            (metadataOverflow, { if case .metadataOutOfBounds = $0 { true } else { false } }),
            (metadataInHeader, { if case .metadataOutOfBounds = $0 { true } else { false } }),
            (base, { if case .metadataChecksumMismatch = $0 { true } else { false } }),
        ]
        for (index, (header, matches)) in checks.enumerated() {
            let error = try openError(file(header), name: "header-field-\(index).wst")
            #expect(matches(error), "\(error)")
        }
        var bigEndian = file(base)
        bigEndian.replaceSubrange(12..<16, with: [1, 2, 3, 4])
        bigEndian.replaceSubrange(56..<64, with: withUnsafeBytes(of: XXH64.hash(Array(bigEndian[0..<56])).littleEndian, Array.init))
        #expect(try openError(bigEndian) == .wrongByteOrder(file: directory.file("bad.wst"), found: 0x0403_0201))
    }

    @Test func aMissingFileOrAFolderIsAnIOError() throws {
        #expect(throws: FormatError.io(path: directory.file("absent.wst"), operation: "open", reason: "No such file or directory (errno 2)")) {
            try ContainerReader(path: directory.file("absent.wst"))
        }
        #expect(throws: FormatError.io(path: directory.path, operation: "open", reason: "not a regular file")) {
            try ContainerReader(path: directory.path)
        }
    }
}
