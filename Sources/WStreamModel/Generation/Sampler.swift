#if canImport(Glibc)
import Glibc
#endif
import WStreamQuant
import WStreamRuntime

/// How the next token is chosen from the logits.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 picks the most likely token (greedy, first maximum wins).
    public var temperature: Float = 0.8
    /// Keep only the `topK` most likely tokens (0 = all).
    public var topK: Int = 40
    /// Keep the smallest set of tokens whose probabilities add up to `topP`.
    public var topP: Float = 0.95
    /// Drop tokens less likely than `minP` times the most likely one.
    public var minP: Float = 0.05
    /// Divide positive (multiply negative) logits of recently seen tokens by this; 1 = off.
    public var repetitionPenalty: Float = 1.0
    /// How many recent tokens the repetition, frequency and presence penalties look at.
    public var repetitionWindow: Int = 64
    /// Subtracted from a token's logit once per time it occurs in the window (OpenAI's `frequency_penalty`); 0 = off.
    public var frequencyPenalty: Float = 0
    /// Subtracted once from the logit of every token that occurs in the window (OpenAI's `presence_penalty`); 0 = off.
    public var presencePenalty: Float = 0
    /// Same seed, same choices. nil draws a seed from the system.
    public var seed: UInt64?

    public init() {}

    /// Greedy decoding: deterministic, what the exactness tests use.
    public static var greedy: SamplingOptions {
        var options = SamplingOptions()
        options.temperature = 0
        return options
    }
}

/// Chooses tokens from logits according to `SamplingOptions`, with its own seeded generator.
struct Sampler {
    let options: SamplingOptions
    private var random: SplitMix64

    init(options: SamplingOptions) {
        self.options = options
        var system = SystemRandomNumberGenerator()
        random = SplitMix64(seed: options.seed ?? system.next())
    }

    /// The next token for `logits[vocabulary]` (modified in place by the penalty), given the tokens so far.
    mutating func sample(_ logits: UnsafeMutablePointer<Float>, vocabulary: Int, history: [Int]) -> Int {
        if options.repetitionPenalty != 1 {
            for id in Set(history.suffix(options.repetitionWindow)) where id < vocabulary {
                logits[id] = logits[id] > 0 ? logits[id] / options.repetitionPenalty : logits[id] * options.repetitionPenalty
            }
        }
        if options.frequencyPenalty != 0 || options.presencePenalty != 0 {
            var counts: [Int: Int] = [:]
            for id in history.suffix(options.repetitionWindow) where id < vocabulary { counts[id, default: 0] += 1 }
            for (id, count) in counts {
                logits[id] -= Float(count) * options.frequencyPenalty + options.presencePenalty
            }
        }
        if options.temperature <= 0 { return VectorMath.firstMaximum(logits, vocabulary) }
        let candidates = Self.candidates(logits, vocabulary: vocabulary, options: options)
        let maximum = candidates[0].logit
        var probabilities = candidates.map { expf(($0.logit - maximum) / options.temperature) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }
        var keep = probabilities.count
        if options.minP > 0 {
            keep = probabilities.firstIndex { $0 < options.minP * probabilities[0] } ?? keep
        }
        if options.topP < 1 {
            var cumulative: Float = 0
            for i in 0..<keep {
                cumulative += probabilities[i]
                if cumulative >= options.topP { keep = i + 1; break }
            }
        }
        let mass = probabilities[0..<max(keep, 1)].reduce(0, +)
        var target = random.nextFloat() * mass
        for i in 0..<max(keep, 1) {
            target -= probabilities[i]
            if target <= 0 { return candidates[i].id }
        }
        return candidates[max(keep, 1) - 1].id
    }
}

extension Sampler {
    /// What sampling allocates per token at most: the candidates (an id and a logit, 16 bytes, per token of the
    /// vocabulary when top-k is off) with their probabilities, and the history of ids it is given (twice:
    /// the array and the penalty's set).
    static func workingSetPart(vocabulary: Int, context: Int) -> WorkingSet.Part {
        WorkingSet.Part("sampler", bytes: 20 * vocabulary + 16 * context)
    }

    /// The tokens that can still be chosen, most likely first: the `topK` largest logits (selected with a
    /// bounded heap, not by sorting the vocabulary every token), or, without top-k, those that can pass
    /// min-p. Sorting 128k logits per token cost ~10 % of decode time.
    static func candidates(_ logits: UnsafeMutablePointer<Float>, vocabulary: Int, options: SamplingOptions) -> [(id: Int, logit: Float)] {
        var kept: [(id: Int, logit: Float)]
        if options.topK > 0, options.topK < vocabulary {
            kept = largest(options.topK, of: logits, vocabulary: vocabulary)
        } else {
            var maximum = -Float.infinity
            for i in 0..<vocabulary { maximum = max(maximum, logits[i]) }
            // p_i / p_max = exp((l_i − l_max) / T) < minP  ⇔  l_i < l_max + T·ln(minP).
            let floor = options.minP > 0 ? maximum + options.temperature * logf(options.minP) : -Float.infinity
            kept = (0..<vocabulary).compactMap { logits[$0] >= floor ? (id: $0, logit: logits[$0]) : nil }
        }
        kept.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        return kept
    }

    /// The `count` largest logits, in no particular order (a min-heap of `count` entries).
    private static func largest(_ count: Int, of logits: UnsafeMutablePointer<Float>, vocabulary: Int) -> [(id: Int, logit: Float)] {
        var heap: [(id: Int, logit: Float)] = []
        heap.reserveCapacity(count)
        func smaller(_ a: Int, _ b: Int) -> Bool { heap[a].logit < heap[b].logit || (heap[a].logit == heap[b].logit && heap[a].id > heap[b].id) }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1, right = left + 1
                var least = parent
                if left < heap.count, smaller(left, least) { least = left }
                if right < heap.count, smaller(right, least) { least = right }
                if least == parent { return }
                heap.swapAt(parent, least)
                parent = least
            }
        }
        for id in 0..<vocabulary {
            let entry = (id: id, logit: logits[id])
            if heap.count < count {
                heap.append(entry)
                var child = heap.count - 1
                while child > 0, smaller(child, (child - 1) / 2) {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if entry.logit > heap[0].logit {
                heap[0] = entry
                siftDown(0)
            }
        }
        return heap
    }
}
