#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import WStreamPack

/// The worker pipeline behind `Packer`: outputs in order, a bounded lead, errors handed over, clean stops.
@Suite struct BlockPipelineTests {
    private struct JobFailed: Error, Equatable { let index: Int }

    @Test func outputsArriveInJobOrderAndWorkersStayWithinTheWindow() throws {
        let highestStarted = Mutex(-1)
        let window = 3
        let pipeline = BlockPipeline(count: 200, window: window, threads: 3) { index in
            highestStarted.withLock { $0 = max($0, index) }
            // Uneven job times, so later jobs often finish before earlier ones.
            if index % 7 == 0 { usleep(500) }
            return index * 2
        }
        defer { pipeline.finish() }
        for index in 0..<200 {
            #expect(highestStarted.withLock { $0 } < index + window, "a worker started more than \(window) jobs ahead")
            #expect(try pipeline.take(index) == index * 2)
        }
    }

    @Test func aJobsErrorReachesTheConsumerAndFinishStopsTheRest() throws {
        let started = Mutex(0)
        let pipeline = BlockPipeline(count: 10_000, window: 4, threads: 2) { index in
            started.withLock { $0 += 1 }
            if index == 5 { throw JobFailed(index: index) }
            return index
        }
        for index in 0..<5 { #expect(try pipeline.take(index) == index) }
        #expect(throws: JobFailed(index: 5)) { try pipeline.take(5) }
        pipeline.finish()
        let count = started.withLock { $0 }
        #expect(count <= 5 + 1 + 4 + 2, "\(count) jobs started after the consumer stopped at job 5")
    }

    @Test(.timeLimit(.minutes(1)))
    func finishingBeforeTakingEverythingReturns() throws {
        let pipeline = BlockPipeline(count: 1_000, window: 2, threads: 4) { $0 }
        #expect(try pipeline.take(0) == 0)
        pipeline.finish()
        let pipelineWithNoJobs = BlockPipeline(count: 0, window: 2, threads: 2) { $0 }
        pipelineWithNoJobs.finish()
    }
}
