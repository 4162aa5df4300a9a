import TestSupport
import WStreamFormat

/// A command line the soak cannot run with.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// What `wstream-soak` runs: which server, how long, with how many clients and what pauses.
struct SoakOptions {
    /// A model to serve, and what requests to it must respect.
    struct Model {
        let id: String
        let path: String
        /// KV positions each request gets: `--context`, capped by the model's own context.
        let context: Int
        let vocabulary: Int
    }

    var executable = SharedModels.repositoryRoot + "/.build/release/wstream"
    var models: [Model] = []
    var budget = ""
    var seconds = 600.0
    /// Seconds of the same load before the RSS the soak is compared with is read.
    var warmUpSeconds = 30.0
    var clients = 4
    var idleTimeout = 3
    /// Seconds of load between two pauses long enough for every model to be unloaded; 0: no pauses.
    var idleEvery = 60.0
    var context = 512
    var parallel = 2
    var seed: UInt64 = 1

    static let usage = """
        usage: wstream-soak --model ID=PATH [--model ID=PATH …] --budget SIZE [--seconds 600] [--warm-up 30] [--clients 4]
                            [--idle-timeout 3] [--idle-every 60] [--context 512] [--parallel 2] [--seed 1] [--wstream PATH]
        """

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        var sources: [(String, String)] = []
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            func number<T: LosslessStringConvertible>(_ type: T.Type) throws -> T {
                guard let parsed = T(value) else { throw UsageError(description: "\(flag) takes a number, not '\(value)'") }
                return parsed
            }
            switch flag {
            case "--model":
                guard let equals = value.firstIndex(of: "=") else { throw UsageError(description: "--model takes ID=PATH, not '\(value)'") }
                sources.append((String(value[..<equals]), String(value[value.index(after: equals)...])))
            case "--budget": budget = value
            case "--seconds": seconds = try number(Double.self)
            case "--warm-up": warmUpSeconds = try number(Double.self)
            case "--clients": clients = max(1, try number(Int.self))
            case "--idle-timeout": idleTimeout = max(1, try number(Int.self))
            case "--idle-every": idleEvery = try number(Double.self)
            case "--context": context = max(2, try number(Int.self))
            case "--parallel": parallel = max(1, try number(Int.self))
            case "--seed": seed = try number(UInt64.self)
            case "--wstream": executable = value
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        guard !sources.isEmpty, !budget.isEmpty else { throw UsageError(description: "give at least one --model ID=PATH and a --budget") }
        models = try sources.map { id, path in
            let config = try ContainerReader(path: path).metadata.config
            return Model(id: id, path: path, context: min(context, config.contextLength), vocabulary: config.vocabSize)
        }
    }
}
