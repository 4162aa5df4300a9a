import Glibc
import Synchronization
import Testing
@testable import WStreamQuant

@Suite struct ComputePoolTests {
    @Test(arguments: [1, 2, 3])
    func everyIndexRunsExactlyOnceUnderRepeatedCalls(threads: Int) {
        let pool = ComputePool(threadCount: threads)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for call in 0..<2000 {
            let n = [1, 2, 3, 7, 17, 1000][call % 6]
            counts.initialize(repeating: 0, count: n)
            pool.parallelFor(n) { counts[$0] += 1 }
            #expect((0..<n).allSatisfy { counts[$0] == 1 }, "call \(call), count \(n)")
        }
    }

    /// Workers that went to sleep after a quiet spell are woken by the next call.
    @Test func sleepingWorkersWakeForTheNextCall() {
        let pool = ComputePool(threadCount: 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        for _ in 0..<5 {
            usleep(20_000)
            counts.initialize(repeating: 0, count: 64)
            pool.parallelFor(64) { counts[$0] += 1 }
            #expect((0..<64).allSatisfy { counts[$0] == 1 })
        }
    }

    /// A worker takes part: while the caller is held inside index 0, only a worker can run index 1.
    @Test func aWorkerRunsTheIndicesTheCallerCannot() {
        let pool = ComputePool(threadCount: 2)
        let runners = Runners()
        pool.parallelFor(2) { i in
            runners.record(i)
            var waited = 0
            while runners.thread(1 - i) == 0 && waited < 5_000 {
                usleep(1_000)
                waited += 1
            }
        }
        #expect(runners.thread(0) != 0 && runners.thread(1) != 0 && runners.thread(0) != runners.thread(1))
    }

    /// With no time to poll, every wait sleeps: workers wait for work on their condition variable and the
    /// caller waits for slow workers on its own, and no wake-up is lost either way.
    @Test func waitsThatSleepAtOnceLoseNoWakeUp() {
        let pool = ComputePool(threadCount: 3, waitPolicy: ComputePool.WaitPolicy(spinNanoseconds: 0, yieldNanoseconds: 0))
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        for call in 0..<500 {
            let n = [2, 3, 17, 64][call % 4]
            counts.initialize(repeating: 0, count: n)
            pool.parallelFor(n) { i in
                // Some indices take long enough that the caller runs out of work and has to sleep.
                if i % 7 == 1 { usleep(50) }
                counts[i] += 1
            }
            #expect((0..<n).allSatisfy { counts[$0] == 1 }, "call \(call), count \(n)")
        }
    }

    /// Reading ahead never faults: workers told to read ahead memory that cannot be read (or no longer exists)
    /// go on running every index, and a lead longer than any gap gives way to the next call.
    @Test func readingAheadUnreadableMemoryIsHarmless() throws {
        let bytes = 64 << 20
        let unreadable = try #require(mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), "mmap failed")
        #expect(unreadable != MAP_FAILED)
        defer { munmap(unreadable, bytes) }
        let lead = UnsafeRawBufferPointer(start: unreadable, count: bytes)
        let pool = ComputePool(threadCount: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        for call in 0..<200 {
            counts.initialize(repeating: 0, count: 64)
            pool.parallelFor(64, thenReadAhead: [lead, lead]) { counts[$0] += 1 }
            #expect((0..<64).allSatisfy { counts[$0] == 1 }, "call \(call)")
        }
    }

    /// A worker reading ahead gives way to the next call at once: with a lead of 1 TiB of address space (16 billion
    /// prefetches: read to the end, about 25 s here, where 64 GiB took 1.5 s) the next call still gets the worker in
    /// time to run the index the caller cannot.
    @Test func readingAheadStopsForTheNextCall() throws {
        let bytes = 1 << 40
        let unreadable = try #require(mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), "mmap failed")
        #expect(unreadable != MAP_FAILED)
        defer { munmap(unreadable, bytes) }
        let pool = ComputePool(threadCount: 2)
        /// Runs a call whose two indices wait for each other, so the worker must join it; returns the seconds that took.
        func callBothThreadsJoin(readingAhead leads: ProductSchedule.Leads?) -> Double {
            let start = BoundedWait.nanoseconds()
            let runners = Runners()
            pool.parallelFor(2, thenReadAhead: leads) { i in
                runners.record(i)
                while runners.thread(1 - i) == 0 && BoundedWait.nanoseconds() - start < 20_000_000_000 { usleep(100) }
            }
            #expect(runners.thread(0) != 0 && runners.thread(1) != 0 && runners.thread(0) != runners.thread(1))
            return Double(BoundedWait.nanoseconds() - start) / 1e9
        }
        for _ in 0..<3 {
            _ = callBothThreadsJoin(readingAhead: [UnsafeRawBufferPointer(start: unreadable, count: bytes)])
            let waited = callBothThreadsJoin(readingAhead: [])
            #expect(waited < 3, "the worker joined the next call after \(waited) s")
        }
    }

    @Test func poolsCanBeCreatedAndReleasedRepeatedly() {
        var total = 0
        for _ in 0..<20 {
            let pool = ComputePool(threadCount: 3)
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: 10)
            hits.initialize(repeating: 0, count: 10)
            pool.parallelFor(10) { hits[$0] = 1 }
            total += (0..<10).reduce(0) { $0 + hits[$1] }
            hits.deallocate()
        }
        #expect(total == 200)
    }

    @Test func emptyLoopRunsNothing() {
        var ran = false
        ComputePool(threadCount: 2).parallelFor(0) { _ in ran = true }
        #expect(!ran)
    }
}

/// The threads that ran indices 0 and 1, shared between them.
private final class Runners: Sendable {
    let first = Atomic<UInt>(0)
    let second = Atomic<UInt>(0)

    func record(_ index: Int) {
        if index == 0 { first.store(UInt(pthread_self()), ordering: .releasing) } else { second.store(UInt(pthread_self()), ordering: .releasing) }
    }

    func thread(_ index: Int) -> UInt {
        index == 0 ? first.load(ordering: .acquiring) : second.load(ordering: .acquiring)
    }
}
