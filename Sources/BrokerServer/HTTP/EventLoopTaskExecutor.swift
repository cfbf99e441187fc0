import NIOCore

/// Runs a task's nonisolated code on the event loop of the connection it serves.
///
/// Only queries that may ask other nodes become tasks (``APIAnswer``). Started on the
/// global executor, each would hop from the event loop to the pool and back; preferring
/// the event loop keeps the query on its thread until something actually awaits.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        self.eventLoop.enqueue(job)
    }
}
