import Testing
import WStreamTokenizer

/// Hostile templates end with a limit error, quickly and without crashing: deep nesting, runaway
/// recursion, huge ranges, exploding strings and collections, self-referencing values.
@Suite struct ChatTemplateSandboxTests {
    /// Small limits keep these tests fast; the checks are the same as with the defaults.
    private static let limits: TemplateLimits = {
        var limits = TemplateLimits()
        limits.maxSteps = 50_000
        limits.maxOutputBytes = 1 << 20
        limits.maxCollectionCount = 10_000
        return limits
    }()

    private func outcome(_ source: String, limits: TemplateLimits = limits) -> Result<String, any Error> {
        Result { try ChatTemplate(source, limits: limits).render([ChatMessage(role: "user", content: "Hi")]) }
    }

    private func expectLimit(_ source: String, mentioning text: String, limits: TemplateLimits = limits) {
        switch outcome(source, limits: limits) {
        case .success(let text):
            Issue.record("\(source.prefix(80).debugDescription) rendered \(text.utf8.count) bytes instead of hitting a limit")
        case .failure(let error):
            guard case let TokenizerError.chatTemplate(kind, message, _) = error else {
                Issue.record("\(source.prefix(80).debugDescription) failed with \(error)")
                return
            }
            #expect(kind == .limit, "\(source.prefix(80).debugDescription): \(message)")
            #expect(message.contains(text), "\(source.prefix(80).debugDescription): \(message)")
        }
    }

    @Test func deepNestingIsRefusedWhileParsing() {
        expectLimit("{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}", mentioning: "nest deeper")
        expectLimit(String(repeating: "{% if true %}", count: 5_000) + String(repeating: "{% endif %}", count: 5_000), mentioning: "nest deeper")
        expectLimit("{{ 1" + String(repeating: " + 1", count: 100_000) + " }}", mentioning: "an expression nests deeper")
        expectLimit("{{ " + String(repeating: "- ", count: 10_000) + "1 }}", mentioning: "nest deeper")
    }

    @Test func runawayRecursionStops() {
        expectLimit("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", mentioning: "macro calls nest deeper")
        expectLimit("{% macro m() %}{{ caller() }}{% endmacro %}{% macro r() %}{% call m() %}{{ r() }}{% endcall %}{% endmacro %}{{ r() }}",
            mentioning: "macro calls nest deeper")
        expectLimit("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}", mentioning: "steps")
        expectLimit("{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}", mentioning: "nest deeper")
    }

    @Test func loopsAndRangesAreBounded() {
        expectLimit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", mentioning: "steps")
        expectLimit("{{ range(10 ** 9) | length }}", mentioning: "MAX_RANGE (100000)")
        expectLimit("{{ range(100000) | map('string') | join }}", mentioning: "steps")
    }

    @Test func stringsCollectionsAndOutputAreBounded() {
        expectLimit("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", mentioning: "string longer")
        expectLimit("{{ 'x' * 10 ** 12 }}", mentioning: "string longer")
        expectLimit("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", mentioning: "elements")
        expectLimit("{% for i in range(600) %}{{ 'x' * 2000 }}{% endfor %}", mentioning: "output grew")
        // Values that share one large string print far beyond the limit: printing stops at the limit.
        expectLimit("{% set big = 'x' * 500000 %}{{ [big] * 1000 }}", mentioning: "string longer")
        expectLimit("{% set big = 'x' * 500000 %}{{ ([big] * 1000) | tojson }}", mentioning: "string longer")
        expectLimit("{{ [[1]] | tojson(indent=1000000) }}", mentioning: "string longer")
        expectLimit("{{ '%.99999999f' % 1.5 }}{{ '{:>99999999}'.format(1) }}", mentioning: "string longer")
        expectLimit("{{ ('x' * 100000).replace('', 'yyyyyyyyyyyyyyyyyyyy') }}", mentioning: "string longer")
        expectLimit("{{ (',' * 100000).split(',') | length }}", mentioning: "elements")
    }

    @Test func valuesCannotNestWithoutBound() {
        expectLimit("{% set ns = namespace(l=[]) %}{% for i in range(10000) %}{% set ns.l = [ns.l] %}{% endfor %}", mentioning: "nest deeper")
        expectLimit("{% set ns = namespace(it=[1]) %}{% for i in range(10000) %}{% set ns.it = ns.it | map('string') %}{% endfor %}",
            mentioning: "nest deeper")
        expectLimit("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", mentioning: "too deeply")
    }

    @Test func aTemplateLargerThanTheLimitIsRefusedWhole() {
        var limits = Self.limits
        limits.maxTemplateBytes = 1 << 10
        expectLimit(String(repeating: "x", count: 2 << 10), mentioning: "bytes", limits: limits)
    }

    @Test func macrosCapturingTheirScopesInAChainReleaseWithoutCrashing() throws {
        let source = "{% set ns = namespace(m=none) %}{% macro outer(previous) %}{% macro inner() %}{{ previous }}{% endmacro %}"
            + "{% set ns.m = inner %}{% endmacro %}{% for i in range(3000) %}{{ outer(ns.m) }}{% endfor %}done"
        var limits = Self.limits
        limits.maxSteps = 1_000_000
        #expect(try outcome(source, limits: limits).get() == "done")
    }
}
