import Testing
@testable import WStreamModel
import WStreamQuant

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

    @Test func topKSelectionEqualsSortingTheVocabulary() {
        var random = SplitMix64(seed: 9)
        // Coarse values so that ties occur; ties go to the lower id, as a stable sort would.
        var logits = (0..<5000).map { _ in Float(random.next() % 200) / 10 }
        var options = SamplingOptions()
        options.topK = 40
        let selected = Sampler.candidates(&logits, vocabulary: logits.count, options: options)
        let sorted = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        #expect(selected.map(\.id) == Array(sorted.prefix(40)))
    }

    @Test func withoutTopKOnlyTokensThatCanPassMinPRemain() {
        var logits: [Float] = [0, 5, 4.9, -3, 2]
        var options = SamplingOptions()
        options.topK = 0
        options.minP = 0.5
        options.temperature = 1
        // exp(l − 5) ≥ 0.5 keeps 5 and 4.9 only.
        #expect(Sampler.candidates(&logits, vocabulary: 5, options: options).map(\.id) == [1, 2])
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        var options = SamplingOptions.greedy
        options.repetitionPenalty = 2
        var logits: [Float] = [1.0, 1.5, 0.9]
        var sampler = Sampler(options: options)
        #expect(sampler.sample(&logits, vocabulary: 3, history: [1]) == 0)
    }

    /// OpenAI's rule: logit − count·frequency − presence, over the tokens in the window only.
    @Test func frequencyAndPresencePenaltiesSubtractPerOccurrenceAndOnce() {
        var options = SamplingOptions.greedy
        options.frequencyPenalty = 0.5
        options.presencePenalty = 0.25
        options.repetitionWindow = 4
        var logits: [Float] = [3.0, 3.5, 2.0, 1.0]
        var sampler = Sampler(options: options)
        // Token 0 once (outside the window twice more), token 1 twice: 3 − 0.75 = 2.25, 3.5 − 1.25 = 2.25.
        #expect(sampler.sample(&logits, vocabulary: 4, history: [0, 0, 0, 1, 2, 1]) == 0)
        #expect(logits == [2.25, 2.25, 1.25, 1.0])
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

    /// The stop that appears first in the text ends it, whatever the order of the list.
    @Test func theEarliestStopInTheTextWinsNotTheFirstInTheList() {
        var filter = StopStringFilter(stops: ["B", "A"])
        let (emit, stopped) = filter.push("xAyB")
        #expect(stopped)
        #expect(emit == "x")
    }

    @Test func aPartialMatchIsReleasedWhenItDoesNotComplete() {
        var filter = StopStringFilter(stops: ["END"])
        #expect(filter.push("the E").emit == "the ")
        #expect(filter.push("nd").emit == "End")
        #expect(filter.flush() == "")
    }
}
