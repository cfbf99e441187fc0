import NIOCore

/// What the dispatcher does with recorded events and when, without clocks, sockets or
/// tasks: holds vacates and removals, cancels them against a quick return, gathers
/// events per endpoint over the batch window and hands out batches, one in flight per
/// endpoint so each endpoint sees its events in order. The dispatcher owns the effects
/// (timers, POSTs) and calls in with the current time.
///
/// The bound counts every event copy that is held, queued or in flight, so a slow
/// endpoint cannot grow memory without limit; over it new events are refused.
struct WebhookScheduler {
    struct Configuration {
        var holdDuration: TimeAmount
        var batchWindow: TimeAmount
        var maxPendingEvents: Int
        var maxEventsPerRequest: Int
    }

    /// What became of one recorded event.
    enum RecordOutcome: Equatable {
        /// Queued or held; `wake` when it set a deadline earlier than the armed timer.
        case accepted(wake: Bool)
        /// It met a held opposite; both are gone.
        case cancelledHold
        /// Over the bound; the caller counts it.
        case dropped
        /// Nothing to do: a repeated vacate or removal, or no endpoint wants it.
        case ignored
    }

    private struct EndpointQueue {
        var events = CircularBuffer<[UInt8]>()
        /// When the oldest queued event's window closes.
        var windowEnd: NIODeadline?
        var inFlight = false
    }

    let configuration: Configuration
    private var holds = WebhookHolds()
    private var queues: [EndpointQueue]
    /// Event copies held, queued or in flight, compared with `maxPendingEvents`.
    private(set) var pendingEvents = 0
    /// The deadline the dispatcher's timer is set for; an earlier one needs a wake-up.
    private var armed: NIODeadline?
    /// Set at graceful shutdown: every window and hold counts as ended.
    private(set) var isDraining = false

    init(endpointCount: Int, configuration: Configuration) {
        self.configuration = configuration
        self.queues = Array(repeating: EndpointQueue(), count: endpointCount)
    }

    /// Nothing held, queued or in flight: a drain may finish.
    var isIdle: Bool { self.pendingEvents == 0 }

    mutating func record(_ event: WebhookPendingEvent, role: WebhookHoldRole, now: NIODeadline) -> RecordOutcome {
        switch role {
        case .cancels(let key, _):
            if let held = self.holds.cancel(key) {
                self.pendingEvents -= held.holdCost
                return .cancelledHold
            }
            return self.enqueue(event, now: now)
        case .held(let key, _):
            guard self.pendingEvents + event.holdCost <= self.configuration.maxPendingEvents else {
                return .dropped
            }
            let deadline = now + self.configuration.holdDuration
            guard self.holds.hold(event, key: key, until: deadline) else {
                return .ignored
            }
            self.pendingEvents += event.holdCost
            return .accepted(wake: self.needsWake(for: deadline))
        case .none:
            return self.enqueue(event, now: now)
        }
    }

    /// Releases expired holds into their endpoints' queues and takes every batch that
    /// is due; also says whether the timer must be set for an earlier deadline.
    mutating func takeDue(now: NIODeadline) -> (batches: [WebhookBatch], arm: NIODeadline?) {
        let released = self.isDraining ? self.holds.releaseAll() : self.holds.expire(now: now)
        for event in released {
            self.pendingEvents -= event.holdCost
            self.place(event, now: now)
        }
        var batches: [WebhookBatch] = []
        for index in self.queues.indices {
            guard !self.queues[index].inFlight, let windowEnd = self.queues[index].windowEnd,
                self.isDraining || windowEnd <= now
            else {
                continue
            }
            let count = min(self.queues[index].events.count, self.configuration.maxEventsPerRequest)
            batches.append(WebhookBatch(endpoint: index, events: Array(self.queues[index].events.prefix(count))))
            self.queues[index].events.removeFirst(count)
            self.queues[index].inFlight = true
            // What is left was due before this batch left; it goes as soon as it returns.
            self.queues[index].windowEnd = self.queues[index].events.isEmpty ? nil : windowEnd
        }
        if let armed = self.armed, armed <= now {
            self.armed = nil
        }
        guard let next = self.nextDeadline(), self.needsWake(for: next) else {
            return (batches, nil)
        }
        self.armed = next
        return (batches, next)
    }

    /// A batch was delivered or given up: its events leave the bound and the endpoint
    /// may send again.
    mutating func finish(_ batch: WebhookBatch) {
        self.queues[batch.endpoint].inFlight = false
        self.pendingEvents -= batch.events.count
    }

    /// From now on everything held or queued is due at once.
    mutating func beginDraining() {
        self.isDraining = true
    }

    private mutating func enqueue(_ event: WebhookPendingEvent, now: NIODeadline) -> RecordOutcome {
        guard !event.endpoints.isEmpty else {
            return .ignored
        }
        guard self.pendingEvents + event.endpoints.count <= self.configuration.maxPendingEvents else {
            return .dropped
        }
        return .accepted(wake: self.place(event, now: now))
    }

    /// Appends the event to each of its endpoints' queues, opening a window where none
    /// is open. Returns whether that window ends before the armed timer.
    @discardableResult
    private mutating func place(_ event: WebhookPendingEvent, now: NIODeadline) -> Bool {
        var wake = false
        for endpoint in event.endpoints {
            if self.queues[endpoint].windowEnd == nil {
                let windowEnd = now + self.configuration.batchWindow
                self.queues[endpoint].windowEnd = windowEnd
                wake = wake || self.needsWake(for: windowEnd)
            }
            self.queues[endpoint].events.append(event.json)
        }
        self.pendingEvents += event.endpoints.count
        return wake
    }

    /// While draining every change needs a look: closing connections record vacates
    /// that are due at once, whatever their hold says.
    private func needsWake(for deadline: NIODeadline) -> Bool {
        self.isDraining || (self.armed.map { deadline < $0 } ?? true)
    }

    /// The earliest moment something becomes due: a hold ending or a window closing on
    /// an endpoint that is free to send.
    private mutating func nextDeadline() -> NIODeadline? {
        var next = self.holds.nextDeadline()
        for queue in self.queues where !queue.inFlight {
            if let windowEnd = queue.windowEnd, next.map({ windowEnd < $0 }) ?? true {
                next = windowEnd
            }
        }
        return next
    }
}
