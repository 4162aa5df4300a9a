/// What merging two adjacent symbols produces, and how eagerly.
struct PairMerge: Sendable {
    var merged: Int32
    /// Higher merges first: a SentencePiece score, or minus a merge rank.
    var priority: Float
}

/// Byte-pair merging over token ids: repeatedly replace the adjacent pair with the highest priority
/// (the leftmost one on ties) by its merged token, until no adjacent pair is mergeable.
///
/// Both llama2.c's score-driven loop and Hugging Face's rank-driven BPE are this algorithm with a different
/// priority. A heap of candidate pairs over a linked list of symbols makes it O(n log n) instead of the
/// O(n²) rescan, so long prompts (one Metaspace "word" can be the whole prompt) stay fast.
struct BytePairMerger: Sendable {
    let pairs: [UInt64: PairMerge]

    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Merges `symbols` in place.
    func merge(_ symbols: inout [Int32]) {
        let count = symbols.count
        guard count > 1 else { return }
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(i + 1) }
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(i - 1) }
            initialized = count
        }
        var heap = CandidateHeap()
        func consider(_ left: Int32, _ right: Int32) {
            let leftId = symbols[Int(left)], rightId = symbols[Int(right)]
            if let merge = pairs[Self.key(leftId, rightId)] {
                heap.push(Candidate(priority: merge.priority, left: left, right: right, leftId: leftId, rightId: rightId))
            }
        }
        for i in 0..<(count - 1) { consider(Int32(i), Int32(i + 1)) }

        while let candidate = heap.pop() {
            let left = Int(candidate.left), right = Int(candidate.right)
            // Stale: one side was merged away or changed since this candidate was pushed.
            guard symbols[left] == candidate.leftId, next[left] == candidate.right, symbols[right] == candidate.rightId,
                let merge = pairs[Self.key(candidate.leftId, candidate.rightId)]
            else { continue }
            symbols[left] = merge.merged
            symbols[right] = -1
            let after = next[right]
            next[left] = after
            if Int(after) < count { previous[Int(after)] = Int32(left) }
            if previous[left] >= 0 { consider(previous[left], Int32(left)) }
            if Int(after) < count { consider(Int32(left), after) }
        }

        var result: [Int32] = []
        result.reserveCapacity(count)
        var index = 0
        while index < count {
            result.append(symbols[index])
            index = Int(next[index])
        }
        symbols = result
    }
}

/// A mergeable adjacent pair, remembered with the ids it had when pushed so stale entries can be skipped.
struct Candidate {
    var priority: Float
    var left: Int32
    var right: Int32
    var leftId: Int32
    var rightId: Int32

    /// Higher priority first; on ties the leftmost pair.
    func precedes(_ other: Candidate) -> Bool {
        priority > other.priority || (priority == other.priority && left < other.left)
    }
}

/// A binary heap of candidates, the most urgent at the top.
struct CandidateHeap {
    private var items: [Candidate] = []

    mutating func push(_ item: Candidate) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < items.count, items[left].precedes(items[best]) { best = left }
            if right < items.count, items[right].precedes(items[best]) { best = right }
            if best == parent { break }
            items.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
