/// `namespace(…)`: the one object a template can change, so that a value set inside a loop is seen after it.
final class JinjaNamespace {
    var attributes: JinjaDictionary

    init(_ attributes: JinjaDictionary) { self.attributes = attributes }
}
