import Hummingbird

/// Requires `Authorization: Bearer <key>` on every route except /health (which probes call without a key).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    init(key: String) {
        self.key = Array(key.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasSuffix("/health") { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              ConstantTime.equal(Array(header.utf8.dropFirst("Bearer ".utf8.count)), key)
        else { throw ServerError.unauthorized }
        return try await next(request, context)
    }
}

/// Comparisons whose duration does not depend on the data.
enum ConstantTime {
    /// Looks at every byte of `expected` whatever `given` holds, so the time taken reveals neither where the
    /// first difference is nor the key's length.
    static func equal(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
