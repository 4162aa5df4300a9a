import Glibc
import Testing
import WStreamQuant

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

    /// Work spreads over the workers: with a body slow enough, a second thread takes part.
    @Test func workersTakePart() {
        let pool = ComputePool(threadCount: 2)
        let threads = UnsafeMutablePointer<pthread_t>.allocate(capacity: 8)
        defer { threads.deallocate() }
        pool.parallelFor(8) { i in
            threads[i] = pthread_self()
            usleep(5_000)
        }
        #expect(Set((0..<8).map { UInt(threads[$0]) }).count == 2)
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
