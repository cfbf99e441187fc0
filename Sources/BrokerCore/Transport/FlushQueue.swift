import NIOCore

/// Flushes each socket once per batch of deliveries instead of once per frame, when
/// deliveries come faster than they can be flushed one by one.
///
/// A flush is a `writev` system call, and on loopback most of a delivery's cost is that
/// call (the kernel's TCP work, not Swift). Under load, rooms write a frame and ask for
/// a flush; the queue runs one task per batch, queued on the shard's event loop behind
/// every delivery already waiting there, so the frames of many events leave in one call
/// per socket. An isolated event (the previous broadcast ended more than ``busyWindow``
/// ago) is flushed as it is written, so its first subscribers do not wait for its last.
final class FlushQueue {
    /// Broadcasts closer together than this are treated as one burst.
    static let busyWindow = TimeAmount.milliseconds(1)

    private let eventLoop: any EventLoop
    private var pending: [any Outbound] = []
    private var isScheduled = false
    private var lastBroadcastEnded = NIODeadline.uptimeNanoseconds(0)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Whether the broadcast about to start should leave its flushes to the queue: a
    /// batch is already queued, or the shard was idle for less than ``busyWindow``.
    func shouldDefer(now: NIODeadline) -> Bool {
        self.isScheduled || now - self.lastBroadcastEnded < Self.busyWindow
    }

    func broadcastEnded(now: NIODeadline) {
        self.lastBroadcastEnded = now
    }

    /// Arranges one flush of `outbound` after the deliveries already queued.
    func flushSoon(_ outbound: any Outbound) {
        self.eventLoop.assertInEventLoop()
        guard !outbound.isFlushPending else { return }
        outbound.isFlushPending = true
        self.pending.append(outbound)
        guard !self.isScheduled else { return }
        self.isScheduled = true
        self.eventLoop.execute { self.run() }
    }

    private func run() {
        self.isScheduled = false
        let batch = self.pending
        self.pending.removeAll(keepingCapacity: true)
        for outbound in batch {
            outbound.isFlushPending = false
            outbound.flush()
        }
    }
}

/// Used only on its shard's event loop (asserted in ``flushSoon(_:)``); the conformance
/// lets the shard's rooms, actors on that same loop, hold it.
extension FlushQueue: @unchecked Sendable {}
