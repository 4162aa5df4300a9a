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
import WStreamTokenizer

/// The streaming path under faults injected at the reader's system calls (`ReadCalls`), with a plan that streams:
/// a damaged frame or a failed read is an error naming the tensor or the file, the next request works and gives the
/// undamaged model's ids, and out-of-order use and cancellation leave the streamer consistent.
@Suite(.serialized) struct StreamingFaultTests {
    let directory = TemporaryDirectory()
    let path: String
    /// Greedy ids of the undamaged model for `prompt`.
    let prompt = [1, 403, 407, 261, 378]
    let expected: [Int]

    init() throws {
        path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        let clean = try LanguageModel(path: path, options: .init(contextLength: 64, budget: nil, threads: 1))
        expected = try clean.generate(promptIds: prompt, options: Self.greedy).generatedIds
    }

    static var greedy: GenerationOptions {
        var options = GenerationOptions()
        options.maxTokens = 12
        options.sampling = .greedy
        return options
    }

    /// A model read through `calls` whose plan keeps one unit resident at most, so the others stream.
    func streamingModel(_ calls: FaultyReadCalls, io: StreamingIO) throws -> LanguageModel {
        let reader = try ContainerReader(path: path, calls: calls)
        var options = LanguageModel.Options(contextLength: 64, budget: nil, threads: 1)
        options.streamingIO = io
        let needs = try LanguageModel.needs(reader: reader, options: options)
        options.allowance = needs.minimumBytes + needs.minimumPoolBytes
        let model = try LanguageModel(reader: reader, tokenizer: try Tokenizer(spec: reader.metadata.tokenizer), options: options)
        #expect(model.plan.streamed.count >= 4, "the plan should stream most units: \(model.plan)")
        return model
    }

    /// A tensor of a block that streams under `streamingModel`'s plan, and the file offset of a byte in its first frame.
    func streamedTensor(io: StreamingIO) throws -> (name: String, offset: Int) {
        let model = try streamingModel(FaultyReadCalls(), io: io)
        let unit = try #require(model.plan.streamed.first { model.streamer.layouts[$0]!.name.hasPrefix("layer.") })
        let tensor = try #require(model.streamer.layouts[unit]!.placements.first { $0.tensor.storage.codeBits == 4 }).tensor
        return (tensor.name, Int(tensor.frames[0].offset) + 5)
    }

    /// The next request fails with a checksum mismatch naming `tensor`, and the one after it gives the expected ids.
    private func expectChecksumMismatchNaming(_ tensor: String, thenRecovery model: LanguageModel) throws {
        let error = #expect(throws: FormatError.self) { try model.generate(promptIds: prompt, options: Self.greedy) }
        guard case .checksumMismatch(_, let damaged, _, _, _, _)? = error else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error))")
            return
        }
        #expect(damaged == tensor)
        #expect(try model.generate(promptIds: prompt, options: Self.greedy).generatedIds == expected)
    }

    @Test(arguments: StreamingIO.allCases)
    func aDamagedStreamedFrameIsAnErrorNamingTheTensorAndTheNextRequestWorks(io: StreamingIO) throws {
        let (tensor, offset) = try streamedTensor(io: io)
        let calls = FaultyReadCalls()
        // Damaged from the start, so whichever read of the block comes first (a prefetch, perhaps) meets it.
        calls.damage(at: offset, times: 1)
        let model = try streamingModel(calls, io: io)
        try expectChecksumMismatchNaming(tensor, thenRecovery: model)
    }

    /// Read past the page cache, a block comes from the disk on every pass, and every pass checks it: damage on a
    /// later pass than the first is caught as well.
    @Test func directReadsAreCheckedOnEveryPass() throws {
        let (tensor, offset) = try streamedTensor(io: .direct)
        let calls = FaultyReadCalls()
        let model = try streamingModel(calls, io: .direct)
        #expect(try model.generate(promptIds: prompt, options: Self.greedy).generatedIds == expected)
        calls.damage(at: offset, times: 1)
        try expectChecksumMismatchNaming(tensor, thenRecovery: model)
    }

    @Test(arguments: StreamingIO.allCases)
    func aFailedReadIsAnErrorNamingTheFileAndTheNextRequestWorks(io: StreamingIO) throws {
        let (_, offset) = try streamedTensor(io: io)
        let calls = FaultyReadCalls()
        calls.fail(at: offset, times: 1, errno: EIO)
        let model = try streamingModel(calls, io: io)
        let error = #expect(throws: FormatError.self) { try model.generate(promptIds: prompt, options: Self.greedy) }
        guard case .io(let file, _, let reason)? = error else {
            Issue.record("expected an I/O error, got \(String(describing: error))")
            return
        }
        #expect(file == path && reason.contains("errno \(EIO)"))
        #expect(try model.generate(promptIds: prompt, options: Self.greedy).generatedIds == expected)
    }

    /// Units asked for out of the cycle's order (a new request after a failed one starts again at the first block)
    /// realign the prefetching: every unit still holds its own bytes.
    @Test func unitsAskedForOutOfOrderHoldTheirOwnBytes() throws {
        let calls = FaultyReadCalls()
        let model = try streamingModel(calls, io: .direct)
        let streamer = model.streamer
        for unit in [model.plan.streamed[2], model.plan.streamed[0], model.plan.streamed[3], model.plan.streamed[2], model.plan.streamed[1]] {
            let region = try streamer.acquire(unit)
            for placement in region.layout.placements {
                let bytes = try model.reader.decodedBytes(of: placement.tensor)
                let start = placement.tensor.decodedOffset(ofBlock: placement.blocks.lowerBound)
                let held = UnsafeRawBufferPointer(start: region.base + placement.offset, count: placement.byteCount)
                #expect(Array(held) == Array(bytes[start..<start + placement.byteCount]), "unit \(unit) \(placement.tensor.name)")
            }
            streamer.release(unit)
        }
        #expect(try model.generate(promptIds: prompt, options: Self.greedy).generatedIds == expected)
    }

    /// Cancelling from the consumer while tokens stream ends the generation as cancelled; the streamer is left
    /// consistent, so the next request gives the full ids.
    @Test func cancellationMidTokenLeavesTheStreamerConsistent() throws {
        let model = try streamingModel(FaultyReadCalls(), io: .mapped)
        let cancellation = GenerationCancellation()
        var pieces = 0
        let result = try model.generate(promptIds: prompt, options: Self.greedy, cancellation: cancellation) { _ in
            pieces += 1
            if pieces == 2 { cancellation.cancel() }
            return true
        }
        #expect(result.statistics.stopReason == .cancelled)
        #expect(result.generatedIds.count < expected.count)
        #expect(try model.generate(promptIds: prompt, options: Self.greedy).generatedIds == expected)
    }
}

/// The real system calls, with damage or failures injected into reads and mappings that cover chosen file offsets.
final class FaultyReadCalls: ReadCalls, @unchecked Sendable {
    private let real = PosixReadCalls()
    private struct Fault {
        let offset: Int
        var remaining: Int
        /// nil: flip the byte; otherwise fail with this errno.
        let failure: Int32?
    }
    private let faults = Mutex<[Fault]>([])

    /// Flips the byte at file `offset` in the next `times` reads or mappings that cover it.
    func damage(at offset: Int, times: Int) { faults.withLock { $0.append(Fault(offset: offset, remaining: times, failure: nil)) } }

    /// Fails the next `times` reads or mappings that cover file `offset` with `errno`.
    func fail(at offset: Int, times: Int, errno: Int32) { faults.withLock { $0.append(Fault(offset: offset, remaining: times, failure: errno)) } }

    /// The fault due for `range`, used up by this call.
    private func take(_ range: Range<Int>) -> Fault? {
        faults.withLock { faults in
            guard let index = faults.firstIndex(where: { $0.remaining > 0 && range.contains($0.offset) }) else { return nil }
            faults[index].remaining -= 1
            return faults[index]
        }
    }

    func open(_ path: String, flags: Int32) -> Int32 { real.open(path, flags: flags) }
    func regularFileSize(_ descriptor: Int32) -> Int? { real.regularFileSize(descriptor) }
    func close(_ descriptor: Int32) -> Int32 { real.close(descriptor) }
    func unmap(_ address: UnsafeRawPointer, length: Int) { real.unmap(address, length: length) }
    func advise(_ address: UnsafeRawPointer, length: Int, _ advice: Int32) { real.advise(address, length: length, advice) }

    func pread(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) -> Int {
        guard let fault = take(offset..<offset + buffer.count) else { return real.pread(descriptor, buffer, offset: offset) }
        if let failure = fault.failure {
            errno = failure
            return -1
        }
        let count = real.pread(descriptor, buffer, offset: offset)
        if count > fault.offset - offset { buffer[fault.offset - offset] ^= 0xFF }
        return count
    }

    /// A mapping with a fault is an anonymous copy of the file's bytes with the fault applied.
    func map(_ descriptor: Int32, offset: Int, length: Int, populate: Bool) -> UnsafeRawPointer? {
        guard let fault = take(offset..<offset + length) else { return real.map(descriptor, offset: offset, length: length, populate: populate) }
        if let failure = fault.failure {
            errno = failure
            return nil
        }
        guard let copy = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), copy != MAP_FAILED else { return nil }
        let buffer = UnsafeMutableRawBufferPointer(start: copy, count: length)
        _ = real.pread(descriptor, buffer, offset: offset)
        buffer[fault.offset - offset] ^= 0xFF
        return UnsafeRawPointer(copy)
    }
}
