/// A Python iterator: consumed once, like the generators `|map`, `|select` and `|reverse` return.
/// Printing one or passing it to `tojson` fails as in Python, where it has no readable form.
final class JinjaIterator {
    /// Python's type name, e.g. `generator` or `list_reverseiterator`.
    let typeName: String
    /// Iterators built on iterators nest; the depth bounds the recursion when the outermost is consumed.
    let depth: Int
    private var nextElement: () throws -> JinjaValue?
    private var finished = false

    init(typeName: String, depth: Int, next: @escaping () throws -> JinjaValue?) {
        self.typeName = typeName
        self.depth = depth
        nextElement = next
    }

    /// An iterator over `elements`.
    convenience init(typeName: String, elements: [JinjaValue], depth: Int) {
        var offset = 0
        self.init(typeName: typeName, depth: depth) {
            guard offset < elements.count else { return nil }
            defer { offset += 1 }
            return elements[offset]
        }
    }

    /// The next element, nil once exhausted (and ever after).
    func next() throws -> JinjaValue? {
        guard !finished else { return nil }
        if let element = try nextElement() { return element }
        finished = true
        nextElement = { nil }
        return nil
    }

    /// Drops what the iterator holds, so that a cycle through it is broken when rendering ends.
    func release() {
        finished = true
        nextElement = { nil }
    }
}
