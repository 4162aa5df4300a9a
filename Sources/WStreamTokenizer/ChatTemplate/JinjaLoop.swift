/// The `loop` variable of a `for` loop: position, neighbours, `cycle()`, `changed()`, and for a
/// `recursive` loop the means to run its body again on children.
final class JinjaLoop {
    let items: [JinjaValue]
    var index0 = 0
    /// 0 for the outermost loop, one more for each `loop(children)` level.
    let depth0: Int
    /// The loop statement and the scope it runs in, for `loop(children)`.
    let recursion: (loop: JinjaForLoop, frame: JinjaFrame)?
    /// The arguments of the last `changed(…)` call.
    var lastChanged: JinjaValue?

    init(items: [JinjaValue], depth0: Int, recursion: (loop: JinjaForLoop, frame: JinjaFrame)?) {
        self.items = items
        self.depth0 = depth0
        self.recursion = recursion
    }

    /// `loop.index`, `loop.first`, …; nil for a name the loop object does not have.
    func attribute(_ name: String) -> JinjaValue? {
        let count = items.count
        switch name {
        case "index": return .integer(index0 + 1)
        case "index0": return .integer(index0)
        case "revindex": return .integer(count - index0)
        case "revindex0": return .integer(count - index0 - 1)
        case "first": return .boolean(index0 == 0)
        case "last": return .boolean(index0 == count - 1)
        case "length": return .integer(count)
        case "depth": return .integer(depth0 + 1)
        case "depth0": return .integer(depth0)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("there is no previous item")
        case "nextitem": return index0 + 1 < count ? items[index0 + 1] : .undefined("there is no next item")
        case "cycle", "changed": return .callable(.loop(self, name))
        default: return nil
        }
    }
}
