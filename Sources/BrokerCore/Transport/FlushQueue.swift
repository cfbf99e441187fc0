import NIOCore

/// Flushes each socket once per batch of deliveries instead of once per frame.
///
/// A flush is a `write` system call, and on loopback most of a delivery's cost is that
/// call: the kernel's TCP work for both ends, not Swift. Rooms write a frame to each
/// subscriber and ask for a flush; the queue runs one task per batch, queued on the
/// shard's event loop behind every delivery already waiting there, so the frames of
/// many events (a `batch_events` request, a burst from the backbone) leave in one call
/// per socket. An isolated event waits only for the room's own loop over its subscribers
/// (appending a frame costs tens of nanoseconds, see `PusherSocketHandler.write(_:)`),
/// then every socket is flushed.
final class FlushQueue {
    private let eventLoop: any EventLoop
    private var pending: [any Outbound] = []
    private var isScheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
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
