public import NIOCore

/// The last event of a cache channel and how much longer it is kept.
public struct CachedEvent: Sendable {
    /// The JSON text of the frame, as published.
    public var payload: ByteBuffer
    public var timeToLive: TimeAmount

    public init(payload: ByteBuffer, timeToLive: TimeAmount) {
        self.payload = payload
        self.timeToLive = timeToLive
    }
}

/// How long cache channels keep their last event: Pusher documents 30 minutes.
public enum CachePolicy {
    public static let timeToLive = TimeAmount.minutes(30)
}
