import NIOCore
import ServiceLifecycle
import Synchronization

extension WebhookDispatcher {
    /// Drives holds, batch windows and deliveries until shutdown.
    ///
    /// On graceful shutdown every held and queued event becomes due at once and is sent
    /// without retries; whatever is still in flight after
    /// ``WebhookDeliveryConfiguration/shutdownFlushTimeout`` is abandoned and counted as
    /// failed, so webhooks never hold up the process's exit for long. Cancellation stops
    /// at once. The HTTP client is shut down before returning.
    public func run() async throws {
        guard self.isEnabled else {
            try? await gracefulShutdown()
            return
        }
        let transport = self.makeTransport()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                await self.schedule(in: &group, transport: transport)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.beginDraining()
        }
        try await transport.shutdown()
    }

    /// The loop: each wake-up takes what is due, starts its deliveries and sets a timer
    /// for the next deadline. Timers and deliveries are children of `group`, so leaving
    /// the loop and cancelling the group ends them all. Returns when cancelled, or when
    /// draining and either nothing is left or the drain deadline has passed.
    private func schedule(in group: inout DiscardingTaskGroup, transport: any WebhookTransport) async {
        var drainTimerSet = false
        for await _ in self.wakeups {
            let now = NIODeadline.now()
            let (batches, arm, drainDeadline, finished) = self.state.withLock { state in
                let (batches, arm) = state.scheduler.takeDue(now: now)
                let finished = state.drainDeadline.map { now >= $0 || state.scheduler.isIdle } ?? false
                return (batches, arm, state.drainDeadline, finished)
            }
            if finished {
                return
            }
            for batch in batches {
                group.addTask { await self.deliver(batch, transport: transport) }
            }
            if let arm {
                group.addTask { await self.wake(at: arm) }
            }
            if let drainDeadline, !drainTimerSet {
                drainTimerSet = true
                group.addTask { await self.wake(at: drainDeadline) }
            }
        }
    }

    /// A timer: wakes the loop at `deadline` unless cancelled first. A timer made stale
    /// by an earlier one only causes a wake-up with nothing to do.
    private func wake(at deadline: NIODeadline) async {
        let delay = deadline - .now()
        if delay > .zero {
            do {
                try await Task.sleep(for: .nanoseconds(delay.nanoseconds))
            } catch {
                return
            }
        }
        self.wake()
    }

    private func beginDraining() {
        let deadline = NIODeadline.now() + self.delivery.shutdownFlushTimeout
        self.state.withLock { state in
            state.drainDeadline = deadline
            state.scheduler.beginDraining()
        }
        self.wake()
    }
}
