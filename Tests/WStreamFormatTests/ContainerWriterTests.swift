#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport
@testable import WStreamFormat

/// Real system calls, except that `write` moves at most `chunk` bytes per call and fails with
/// ENOSPC once `failAfter` bytes have been written (and `fsync` fails when asked).
final class FaultyFileSystemCalls: FileSystemCalls {
    let chunk: Int
    let failAfter: Int
    let failFsync: Bool
    private let written = Mutex(0)
    private let real = PosixFileSystemCalls()

    init(chunk: Int = .max, failAfter: Int = .max, failFsync: Bool = false) {
        self.chunk = chunk
        self.failAfter = failAfter
        self.failFsync = failFsync
    }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { real.open(path, flags: flags, mode: mode) }
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        guard let allowed = admit(bytes.count) else { return -1 }
        return real.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]))
    }
    func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, offset: Int) -> Int {
        guard let allowed = admit(bytes.count) else { return -1 }
        return real.pwrite(descriptor, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), offset: offset)
    }
    func fsync(_ descriptor: Int32) -> Int32 {
        if failFsync {
            errno = EIO
            return -1
        }
        return real.fsync(descriptor)
    }
    func close(_ descriptor: Int32) -> Int32 { real.close(descriptor) }
    func rename(_ from: String, _ to: String) -> Int32 { real.rename(from, to) }
    func unlink(_ path: String) -> Int32 { real.unlink(path) }

    /// How many of `count` bytes this call may write, or nil (errno ENOSPC) when the disk is "full".
    private func admit(_ count: Int) -> Int? {
        written.withLock { total in
            guard total < failAfter else {
                errno = ENOSPC
                return nil
            }
            let allowed = min(count, chunk, failAfter - total)
            total += allowed
            return allowed
        }
    }
}

@Suite struct ContainerWriterTests {
    let directory = TemporaryDirectory("wst-writer")

    private func entries() -> [String] {
        var names: [String] = []
        guard let folder = opendir(directory.path) else { return ["<cannot list>"] }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func writeOneTensor(_ writer: ContainerWriter, bytes: Int = 4000) throws {
        try writer.beginRegion("embed")
        try writer.beginTensor(name: "token_embd.weight", shape: [bytes / 4], storage: .f32, groupSize: 0, rowsPerBlock: 1)
        let data = [UInt8](repeating: 7, count: bytes)
        try writer.appendBlock([data.withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 1, level: 1, minimumSaving: 1) }])
        try writer.endTensor()
    }

    private func finish(_ writer: ContainerWriter) throws {
        try writer.finish(
            config: ContainerFixture.config, tokenizer: ContainerFixture.tokenizer,
            quantization: ContainerFixture.quantization, producer: [:])
    }

    @Test func aFinishedWriteLeavesOnlyTheDestination() throws {
        let path = directory.file("model.wst")
        let writer = try ContainerWriter(destination: path)
        #expect(entries() == [".model.wst.tmp-\(getpid())"])
        try writeOneTensor(writer)
        try finish(writer)
        #expect(entries() == ["model.wst"])
        #expect(try ContainerReader(path: path).tensor(named: "token_embd.weight")?.decodedByteCount == 4000)
    }

    @Test func aWriterDroppedBeforeFinishLeavesNoFile() throws {
        let path = directory.file("model.wst")
        do {
            let writer = try ContainerWriter(destination: path)
            try writeOneTensor(writer)
        }
        #expect(entries() == [])
    }

    @Test func aFolderThatDoesNotExistIsNamedInTheError() throws {
        let path = directory.file("missing/model.wst")
        let error = #expect(throws: FormatError.self) { try ContainerWriter(destination: path) }
        #expect(error?.description.contains(directory.file("missing/.model.wst.tmp-")) == true)
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(entries() == [])
    }

    @Test func aParentThatIsARegularFileIsNamedInTheError() throws {
        try FileContents.write([1, 2, 3], to: directory.file("plain"))
        let error = #expect(throws: FormatError.self) { try ContainerWriter(destination: directory.file("plain/model.wst")) }
        #expect(error?.description.contains("Not a directory") == true)
        #expect(entries() == ["plain"])
    }

    @Test func aFailingWriteRemovesTheTemporaryFile() throws {
        let path = directory.file("model.wst")
        // Fails while writing the frame (the buffer flushes frames above 1 MiB straight through).
        let writer = try ContainerWriter(destination: path, alignment: 4096, calls: FaultyFileSystemCalls(failAfter: 100_000))
        let error = #expect(throws: FormatError.self) { try writeOneTensor(writer, bytes: 2 << 20) }
        #expect(error?.description.contains("No space left on device") == true)
        #expect(entries() == [])
        #expect(throws: FormatError.self) { try finish(writer) }
        #expect(access(path, F_OK) != 0)
    }

    @Test func aFailingFinishRemovesTheTemporaryFileAndLeavesNoDestination() throws {
        let path = directory.file("model.wst")
        let writer = try ContainerWriter(destination: path, alignment: 4096, calls: FaultyFileSystemCalls(failFsync: true))
        try writeOneTensor(writer)
        let error = #expect(throws: FormatError.self) { try finish(writer) }
        #expect(error?.description.contains("fsync failed") == true)
        #expect(entries() == [])
    }

    @Test func shortWritesStillProduceAnIdenticalFile() throws {
        let reference = directory.file("reference.wst")
        let chunked = directory.file("chunked.wst")
        for (path, calls) in [(reference, FaultyFileSystemCalls()), (chunked, FaultyFileSystemCalls(chunk: 1000))] {
            let writer = try ContainerWriter(destination: path, alignment: 4096, calls: calls)
            try writeOneTensor(writer, bytes: 40_000)
            try finish(writer)
        }
        #expect(try FileContents.read(reference) == FileContents.read(chunked))
        try ContainerReader(path: chunked).verify()
    }

    @Test func callsOutOfOrderAreRejectedAndEndTheWriter() throws {
        let path = directory.file("model.wst")
        let misuses: [(ContainerWriter) throws -> Void] = [
            { try $0.beginTensor(name: "x", shape: [4], storage: .f32, groupSize: 0, rowsPerBlock: 1) },
            { try $0.appendBlock([]) },
            { try $0.endTensor() },
            { try $0.beginRegion("a"); try $0.beginRegion("a") },
            { try $0.beginRegion("a"); try $0.beginTensor(name: "x", shape: [4, 4], storage: .q4, groupSize: 0, rowsPerBlock: 1) },
            { try $0.beginRegion("a"); try $0.beginTensor(name: "x", shape: [4], storage: .f32, groupSize: 0, rowsPerBlock: 1); try $0.endTensor() },
            {
                try $0.beginRegion("a")
                try $0.beginTensor(name: "x", shape: [4], storage: .f32, groupSize: 0, rowsPerBlock: 1)
                try $0.appendBlock([EncodedFrame(stored: [1, 2], decodedLength: 2, checksum: 0, encoding: .raw, shuffle: 1)])
            },
            {
                try $0.beginRegion("a")
                try $0.beginTensor(name: "x", shape: [4], storage: .f32, groupSize: 0, rowsPerBlock: 1)
                try self.finish($0)
            },
        ]
        for (index, misuse) in misuses.enumerated() {
            let writer = try ContainerWriter(destination: path)
            let error = #expect(throws: FormatError.self, "misuse \(index)") { try misuse(writer) }
            switch error {
            case .writerMisuse?, .invalidTensor?: break
            default:
                Issue.record("misuse \(index) gave \(String(describing: error))")
            }
            #expect(entries() == [], "misuse \(index)")
            #expect(throws: FormatError.self) { try writer.beginRegion("b") }
        }
        #expect(throws: FormatError.self) { try ContainerWriter(destination: path, alignment: 1000) }
    }
}
