/// Bounds on what a chat template may do, so that a hostile template from a model file cannot hang or
/// crash the process that renders it. Exceeding one fails with `TokenizerError.chatTemplate(.limit, …)`.
///
/// The defaults are far above what real chat templates need (the largest published templates render a
/// long conversation in a few thousand steps) and small enough that a render ends within about a second.
public struct TemplateLimits: Sendable, Equatable {
    /// Longest template source accepted, in bytes.
    public var maxTemplateBytes = 1 << 20
    /// Evaluation steps per render (one per expression evaluated, statement run or loop iteration).
    public var maxSteps = 5_000_000
    /// Longest rendered prompt and longest string a template may build, in UTF-8 bytes.
    public var maxOutputBytes = 32 << 20
    /// Most elements a list, tuple or dictionary may hold.
    public var maxCollectionCount = 1 << 20
    /// How deeply macro calls (and `caller()` and recursive loops) may nest.
    public var maxCallDepth = 64
    /// How deeply blocks, parentheses and values (lists in lists, …) may nest.
    public var maxNesting = 64
    /// How deeply one expression may nest, counting each operator of a chain such as `a + b + c`.
    public var maxExpressionDepth = 256
    /// How deeply rendering may recurse in all (statements in macros in expressions …): this bounds the
    /// stack the renderer uses, whatever the template.
    public var maxRecursion = 512

    /// Jinja's own sandbox refuses `range()` with more items than this (`MAX_RANGE`); so does wstream.
    public static let maxRange = 100_000

    public init() {}
}
