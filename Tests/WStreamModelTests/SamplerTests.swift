import Testing
@testable import WStreamModel

@Suite struct SamplerTests {
    @Test func greedyTakesTheFirstMaximum() {
        var logits: [Float] = [0.5, 2, 1, 2, -1]
        var sampler = Sampler(options: .greedy)
        #expect(sampler.sample(&logits, vocabulary: 5, history: []) == 1)
    }

    @Test func theSameSeedGivesTheSameChoices() {
        var options = SamplingOptions()
        options.seed = 42
        options.topK = 0
        options.minP = 0
        let base: [Float] = (0..<64).map { Float($0 % 7) * 0.3 }
        func draws() -> [Int] {
            var sampler = Sampler(options: options)
            return (0..<50).map { _ in
                var logits = base
                return sampler.sample(&logits, vocabulary: logits.count, history: [])
            }
        }
        let first = draws()
        #expect(first == draws())
        #expect(Set(first).count > 1, "temperature 0.8 over a flat distribution should vary")
    }

    @Test func topKOfOneIsGreedy() {
        var options = SamplingOptions()
        options.topK = 1
        options.seed = 7
        var sampler = Sampler(options: options)
        for _ in 0..<20 {
            var logits: [Float] = [0.1, 0.3, 0.2, 0.25]
            #expect(sampler.sample(&logits, vocabulary: 4, history: []) == 1)
        }
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        var options = SamplingOptions.greedy
        options.repetitionPenalty = 2
        var logits: [Float] = [1.0, 1.5, 0.9]
        var sampler = Sampler(options: options)
        #expect(sampler.sample(&logits, vocabulary: 3, history: [1]) == 0)
    }
}

@Suite struct StopStringFilterTests {
    @Test func textBeforeTheStopIsEmittedAndTheRestDropped() {
        var filter = StopStringFilter(stops: ["\n\nUser:"])
        var out = ""
        var stopped = false
        for piece in ["Hello", " there", "\n", "\nUs", "er: more"] {
            let (emit, stop) = filter.push(piece)
            out += emit
            if stop { stopped = true; break }
        }
        #expect(stopped)
        #expect(out == "Hello there")
    }

    @Test func aPartialMatchIsReleasedWhenItDoesNotComplete() {
        var filter = StopStringFilter(stops: ["END"])
        #expect(filter.push("the E").emit == "the ")
        #expect(filter.push("nd").emit == "End")
        #expect(filter.flush() == "")
    }
}
