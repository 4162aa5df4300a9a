import Hummingbird

/// Requires `Authorization: Bearer <key>` on every route except /health (which probes call without a key).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    init(key: String) {
        self.key = Array(key.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.constantTimeEqual(Array(header.utf8.dropFirst("Bearer ".utf8.count)), key)
        else { throw ServerError.unauthorized }
        return try await next(request, context)
    }

    /// Compares every byte whatever the first difference, so the time taken tells nothing about the key
    /// (only its length, which a comparison of unequal lengths cannot avoid revealing).
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
