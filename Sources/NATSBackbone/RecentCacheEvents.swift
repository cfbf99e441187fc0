import Backbone
import NIOConcurrencyHelpers
import NIOCore

/// The last event of each cache channel this node listens to, as it passed through.
///
/// While a node is subscribed to a channel, every event published on it anywhere in
/// the cluster reaches it, so the last one seen is exact, where the cache bucket can
/// lag by the time its write takes. A slot lives only as long as the interest: a node
/// deaf to a channel misses events, and then only the bucket knows.
final class RecentCacheEvents: Sendable {
    private struct Slot {
        /// Which subscription the slot belongs to: a message still in flight from an
        /// ended subscription must not fill the slot of the next one.
        var generation: UInt64
        var payload: ByteBuffer?
        var expires = NIODeadline.distantPast
    }

    private let slots = NIOLockedValueBox<[String: Slot]>([:])

    /// Starts keeping events of `subject` for subscription `generation`.
    func listen(_ subject: String, generation: UInt64) {
        self.slots.withLockedValue { $0[subject] = Slot(generation: generation) }
    }

    func forget(_ subject: String) {
        self.slots.withLockedValue { _ = $0.removeValue(forKey: subject) }
    }

    /// After a disconnection the node may have missed events: trust only the bucket
    /// until the next event passes through.
    func forgetEvents() {
        self.slots.withLockedValue { slots in
            for subject in slots.keys { slots[subject]?.payload = nil }
        }
    }

    func record(_ subject: String, generation: UInt64, payload: ByteBuffer) {
        self.slots.withLockedValue { slots in
            guard slots[subject]?.generation == generation else { return }
            slots[subject]?.payload = payload
            slots[subject]?.expires = .now() + CachePolicy.timeToLive
        }
    }

    /// The last event seen on `subject`, or `nil` when none was seen (ask the bucket).
    func last(_ subject: String) -> CachedEvent? {
        let now = NIODeadline.now()
        return self.slots.withLockedValue { slots in
            guard let slot = slots[subject], let payload = slot.payload, slot.expires > now else { return nil }
            return CachedEvent(payload: payload, timeToLive: slot.expires - now)
        }
    }
}
