import NIOCore

/// Keeps up to `width` subscriber handshakes in flight on one event loop and starts the
/// next as each finishes.
///
/// Driven by future callbacks on the loop rather than by a task per worker awaiting
/// each handshake: with the generator pinned to one core, every `await` on an NIO future
/// resumed on a Swift concurrency thread competing with the event loop for that core,
/// and those thread switches cost more than the handshakes' own work.
final class ConnectWindow {
    private let loop: any EventLoop
    private let count: Int
    private let width: Int
    private let open: (Int) -> EventLoopFuture<any Channel>
    private let done: EventLoopPromise<[any Channel]>
    private var channels: [(any Channel)?]
    private var next = 0
    private var inFlight = 0
    private var failure: (any Error)?

    /// - Parameter open: starts the handshake of subscriber `index`.
    private init(
        loop: any EventLoop, count: Int, width: Int, open: @escaping (Int) -> EventLoopFuture<any Channel>
    ) {
        self.loop = loop
        self.count = count
        self.width = max(1, width)
        self.open = open
        self.done = loop.makePromise()
        self.channels = Array(repeating: nil, count: count)
    }

    /// Opens `count` subscribers, `width` at a time.
    /// - Returns: the channels in index order; on the first failure, that error, once the
    ///   handshakes in flight have ended and every channel opened has been closed.
    static func open(
        count: Int, width: Int, on loop: any EventLoop, _ open: @escaping @Sendable (Int) -> EventLoopFuture<any Channel>
    ) -> EventLoopFuture<[any Channel]> {
        loop.flatSubmit {
            let window = ConnectWindow(loop: loop, count: count, width: width, open: open)
            window.fill()
            return window.done.futureResult
        }
    }

    private func fill() {
        while self.failure == nil, self.inFlight < self.width, self.next < self.count {
            let index = self.next
            self.next += 1
            self.inFlight += 1
            self.open(index).hop(to: self.loop).assumeIsolated().whenComplete { result in
                self.inFlight -= 1
                switch result {
                case .success(let channel): self.channels[index] = channel
                case .failure(let error): self.failure = self.failure ?? error
                }
                self.fill()
            }
        }
        guard self.inFlight == 0 else { return }
        if let failure = self.failure {
            for channel in self.channels { channel?.close(promise: nil) }
            self.done.fail(failure)
        } else if self.next == self.count {
            self.done.succeed(self.channels.map { $0! })
        }
    }
}

@available(*, unavailable)
extension ConnectWindow: Sendable {}
