#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Hummingbird

/// `GET /v1/models`: the ids given with `--model`, loaded or not.
struct ModelsController<Context: RequestContext>: Sendable {
    let registry: ModelRegistry
    /// Reported as every model's `created`: the server's start.
    let started = Int(time(nil))

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/v1/models") { _, _ -> Response in
            let list = ModelList(data: registry.models.map { ModelList.Entry(id: $0.id, created: started) })
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(list))))
        }
    }
}
