import Testing
@testable import WStreamServer

@Suite struct ServerConfigurationTests {
    @Test func durationsReadInTheirUnits() throws {
        #expect(try ServerConfiguration.parseDuration("300") == .seconds(300))
        #expect(try ServerConfiguration.parseDuration("90s") == .seconds(90))
        #expect(try ServerConfiguration.parseDuration("5m") == .seconds(300))
        #expect(try ServerConfiguration.parseDuration("1.5h") == .seconds(5400))
        #expect(try ServerConfiguration.parseDuration("250ms") == .milliseconds(250))
        #expect(try ServerConfiguration.parseDuration("0") == nil)
        #expect(throws: ServerError.invalidDuration("soon")) { try ServerConfiguration.parseDuration("soon") }
        #expect(throws: ServerError.invalidDuration("-1s")) { try ServerConfiguration.parseDuration("-1s") }
    }

    @Test func modelArgumentsAreIdEqualsPath() throws {
        #expect(try ServerConfiguration.ModelSource(parsing: "lfm2=/models/a=b.wst") == .init(id: "lfm2", path: "/models/a=b.wst"))
        #expect(throws: ServerError.self) { try ServerConfiguration.ModelSource(parsing: "lfm2.wst") }
        #expect(throws: ServerError.self) { try ServerConfiguration.ModelSource(parsing: "=x.wst") }
        #expect(throws: ServerError.self) { try ServerConfiguration.ModelSource(parsing: "a b=x.wst") }
    }

    @Test func apiKeysMatchOnlyWhenEqualWhateverTheirLengths() {
        let key = Array("s3cret".utf8)
        #expect(ConstantTime.equal(key, key))
        #expect(!ConstantTime.equal(Array("s3creT".utf8), key))
        #expect(!ConstantTime.equal(Array("s3cre".utf8), key))
        #expect(!ConstantTime.equal(key + Array(repeating: 0, count: 256), key))
        #expect(!ConstantTime.equal([], key))
    }
}
