#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport
import WStreamFormat
import WStreamImport
@testable import WStreamModel
import WStreamPack
import WStreamRuntime
import WStreamSynth
import WStreamTokenizer

/// Mapped streaming reads a unit the page cache holds in small folios, all or some, again, once, in 2 MiB folios:
/// every streamed unit that spans a whole 2 MiB stretch of the file is dropped from the page cache on its first pass
/// only, in whole 2 MiB stretches, and every unit still holds its own bytes. A unit mapped in 2 MiB pages throughout
/// is left as it is.
@Suite struct LargePageStreamingTests {
    @Test(arguments: [FolioReportingReadCalls.Report.none, .some, .all])
    func unitsNotAllInLargeFoliosAreReadAgainOnceEach(report: FolioReportingReadCalls.Report) throws {
        let directory = TemporaryDirectory()
        let source = directory.file("llama-small")
        try SyntheticModel.write(shape: try SyntheticShape.named("llama-small"), to: source, seed: 5, shards: 1)
        let path = try ReferenceGenerationTests.packed(source, bits: 4, in: directory)
        let calls = FolioReportingReadCalls(report: report)
        let reader = try ContainerReader(path: path, calls: calls)
        var options = LanguageModel.Options(contextLength: 16, budget: nil, threads: 2)
        options.streamingIO = .mapped
        let needs = try LanguageModel.needs(reader: reader, options: options)
        options.allowance = needs.minimumBytes + needs.minimumPoolBytes
        let model = try LanguageModel(reader: reader, tokenizer: try Tokenizer(spec: reader.metadata.tokenizer), options: options)
        let streamed = model.plan.streamed
        let spanning = streamed.filter { FileWindow.largePageCount(in: model.streamer.layouts[$0]!.storedRange) > 0 }
        #expect(spanning.count >= 4, "the plan should stream units of more than 2 MiB: \(model.plan)")
        calls.windows.withLock { $0 = streamed.map { model.streamer.layouts[$0]!.storedRange } }

        for pass in 0..<2 {
            for unit in streamed {
                let region = try model.streamer.acquire(unit)
                for placement in region.layout.placements {
                    let bytes = try model.reader.decodedBytes(of: placement.tensor)
                    let start = placement.tensor.decodedOffset(ofBlock: placement.blocks.lowerBound)
                    let held = UnsafeRawBufferPointer(start: region.base + placement.offset, count: placement.byteCount)
                    #expect(Array(held) == Array(bytes[start..<start + placement.byteCount]), "pass \(pass), unit \(unit) \(placement.tensor.name)")
                }
                model.streamer.release(unit)
            }
            model.streamer.drain()
            let evicted = calls.evicted
            let expected = report == .all ? 0 : spanning.count
            #expect(evicted.count == expected, "pass \(pass), \(report): \(evicted.count) evictions for \(spanning.count) units")
            for unit in spanning where report != .all {
                let range = model.streamer.layouts[unit]!.storedRange
                let covering = evicted.filter { $0.lowerBound <= range.lowerBound && $0.upperBound >= range.upperBound }
                #expect(covering.count == 1, "unit \(unit) \(range): \(covering)")
                #expect(covering.allSatisfy { $0.lowerBound % (2 << 20) == 0 && $0.upperBound % (2 << 20) == 0 && $0.count - range.count < 4 << 20 })
            }
        }
    }
}

/// The real calls, except that every mapping reports as many 2 MiB pages as `report` says, and evictions are
/// recorded.
final class FolioReportingReadCalls: ReadCalls, @unchecked Sendable {
    /// What a window reports of the whole 2 MiB stretches it holds in 2 MiB pages: none (a page cache in small
    /// folios), all but one (a page cache part small, part large), or all.
    enum Report: Sendable { case none, some, all }

    private let real = PosixReadCalls()
    private let report: Report
    private let evictions = Mutex<[Range<Int>]>([])
    /// The file range of each live mapping, by address.
    private let mappings = Mutex<[UInt: Range<Int>]>([:])
    /// The windows the streamer maps (the streamed units' stored ranges), for `.some`.
    let windows = Mutex<[Range<Int>]>([])

    init(report: Report) { self.report = report }

    /// The file ranges dropped from the page cache so far.
    var evicted: [Range<Int>] { evictions.withLock { $0 } }

    func open(_ path: String, flags: Int32) -> Int32 { real.open(path, flags: flags) }
    func regularFileSize(_ descriptor: Int32) -> Int? { real.regularFileSize(descriptor) }
    func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int { real.pread(descriptor, buffer, offset: offset) }
    func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer? {
        let address = real.map(descriptor, offset: offset, length: length, populate: populate)
        if let address { mappings.withLock { $0[UInt(bitPattern: address)] = offset..<(offset + length) } }
        return address
    }
    func unmap(_ address: UnsafeRawPointer, length: Int) {
        _ = mappings.withLock { $0.removeValue(forKey: UInt(bitPattern: address)) }
        real.unmap(address, length: length)
    }
    func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32) { real.advise(address, length: length, advice) }
    func close(_ descriptor: Int32) -> Int32 { real.close(descriptor) }
    func evict(_ descriptor: Int32, offset: Int, length: Int) {
        evictions.withLock { $0.append(offset..<(offset + length)) }
        real.evict(descriptor, offset: offset, length: length)
    }
    func largePageBytes(mappedAt address: UnsafeRawPointer) -> Int? {
        let mapped = mappings.withLock { $0[UInt(bitPattern: address)] }
        let window = windows.withLock { $0.first { mapped?.contains($0.lowerBound) == true && $0.upperBound <= mapped!.upperBound } }
        let count = window.map(FileWindow.largePageCount(in:)) ?? 0
        switch report {
        case .none: return 0
        case .some: return max(0, count - 1) * FileWindow.largePageSize
        case .all: return Int.max >> 1
        }
    }
}
