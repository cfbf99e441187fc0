import NIOCore

/// The vacates and removals waiting out their hold, in deadline order.
///
/// Every hold lasts the same time, so deadlines arrive in insertion order and a FIFO
/// is enough; a cancelled entry stays in the FIFO and is skipped when it reaches the
/// front, which keeps cancelling O(1).
struct WebhookHolds {
    private struct Entry {
        var id: UInt64
        var event: WebhookPendingEvent
    }

    private var byKey: [WebhookHoldKey: Entry] = [:]
    private var order = CircularBuffer<(key: WebhookHoldKey, id: UInt64, deadline: NIODeadline)>()
    private var nextID: UInt64 = 0

    var isEmpty: Bool { self.byKey.isEmpty }

    /// Starts holding `event`. A second hold for the same key is refused: the first one
    /// already stands for the transition, and holding both would report it twice.
    mutating func hold(_ event: WebhookPendingEvent, key: WebhookHoldKey, until deadline: NIODeadline) -> Bool {
        guard self.byKey[key] == nil else {
            return false
        }
        self.nextID &+= 1
        self.byKey[key] = Entry(id: self.nextID, event: event)
        self.order.append((key, self.nextID, deadline))
        return true
    }

    /// Removes the held event for `key`, if any, because its opposite arrived in time.
    mutating func cancel(_ key: WebhookHoldKey) -> WebhookPendingEvent? {
        self.byKey.removeValue(forKey: key)?.event
    }

    /// The held events whose deadline is at or before `now`, oldest first.
    mutating func expire(now: NIODeadline) -> [WebhookPendingEvent] {
        var released: [WebhookPendingEvent] = []
        while let first = self.order.first, first.deadline <= now {
            self.order.removeFirst()
            if self.byKey[first.key]?.id == first.id {
                released.append(self.byKey.removeValue(forKey: first.key)!.event)
            }
        }
        return released
    }

    /// Every held event, oldest first, for the final flush at shutdown.
    mutating func releaseAll() -> [WebhookPendingEvent] {
        self.expire(now: .distantFuture)
    }

    /// When the oldest live hold ends; drops cancelled entries from the front on the way.
    mutating func nextDeadline() -> NIODeadline? {
        while let first = self.order.first {
            if self.byKey[first.key]?.id == first.id {
                return first.deadline
            }
            self.order.removeFirst()
        }
        return nil
    }
}
