import NIOCore

/// Runs a task's nonisolated code on the event loop of the connection it serves.
///
/// An HTTP request's handling is async because queries may ask other nodes; but
/// publishing, the common case, never suspends. Started on the global executor, every
/// request would hop from the event loop to the pool and back (a quarter of the
/// server's time in the many-channels benchmark); preferring the event loop keeps the
/// whole request on its thread until something actually awaits.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        self.eventLoop.enqueue(job)
    }
}
