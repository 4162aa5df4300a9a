#if canImport(Glibc)
import Glibc
#endif

/// Work on a thread of its own (the memory sampler, the pause coordinator), joined when the soak ends.
final class BackgroundThread {
    private var thread = pthread_t()

    /// Starts `work` at once.
    init(_ work: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Work(work)).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
    }

    /// Waits until the work has returned.
    func join() {
        pthread_join(thread, nil)
    }

    private final class Work: Sendable {
        let body: @Sendable () -> Void

        init(_ body: @escaping @Sendable () -> Void) {
            self.body = body
        }
    }
}
