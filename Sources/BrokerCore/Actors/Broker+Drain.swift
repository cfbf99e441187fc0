import CoreMetrics
public import Logging
public import NIOCore
import Synchronization

/// Graceful draining on deploy (DESIGN.md, "Limits live in the hierarchy": Broker).
///
/// Draining turns `/ready` to 503 and refuses new WebSocket upgrades at once, then closes
/// every socket with 4200 ("reconnect now") at a time spread evenly, with jitter, over the
/// drain window, so clients land on the other nodes over the whole window instead of in
/// one spike. Each close frame follows the frames already queued for its socket.
extension Broker {
    /// Whether the node is draining or has drained; read on every upgrade and `/ready`.
    public nonisolated var isDraining: Bool { self.drainState.load(ordering: .relaxed) }

    /// Whether `/ready` should answer 200, and if not, why.
    public nonisolated var readiness: Readiness {
        if self.isDraining { return .notReady(reason: "draining") }
        if !self.isListening.load(ordering: .relaxed) { return .notReady(reason: "not listening yet") }
        if !self.backboneConnected.load(ordering: .relaxed) { return .notReady(reason: "backbone disconnected") }
        return .ready
    }

    /// Called by the listener once it is bound.
    public nonisolated func markListening() {
        self.isListening.store(true, ordering: .relaxed)
    }

    /// Closes every connection over `window` and returns once they are all gone, once
    /// `deadline` has passed, or when the calling task is cancelled (a second signal).
    public nonisolated func drain(over window: TimeAmount, deadline: NIODeadline, logger: Logger) async {
        guard !self.drainState.exchange(true, ordering: .relaxed) else { return }
        self.metrics.draining.record(1)
        let open = await self.connectionCount()
        logger.info(
            "draining",
            metadata: ["connections": "\(open)", "window.seconds": "\(window.nanoseconds / 1_000_000_000)"]
        )
        for shard in self.shards {
            shard.enqueue { $0.drain(over: window) }
        }
        while NIODeadline.now() < deadline {
            let remaining = await self.connectionCount()
            if remaining == 0 {
                logger.info("drained", metadata: ["connections.closed": "\(open)"])
                return
            }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                logger.warning("drain cancelled", metadata: ["connections.open": "\(remaining)"])
                return
            }
        }
        let remaining = await self.connectionCount()
        logger.warning("drain deadline reached", metadata: ["connections.open": "\(remaining)"])
    }
}

/// The answer of `/ready`.
public enum Readiness: Sendable, Equatable {
    case ready
    case notReady(reason: String)
}
