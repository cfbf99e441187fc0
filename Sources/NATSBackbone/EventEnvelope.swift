import Backbone
import NIOCore
import PusherProtocol

/// How a ``BackboneEvent`` travels between nodes: a version byte, a flags byte, the
/// roster revision of a membership announcement (8 bytes, when flagged), the excluded
/// socket id as length-prefixed text, then the frame's JSON as published.
///
/// App and channel are not repeated: the subject says them, and each subscription
/// knows its own. Binary rather than JSON so a receiver never re-parses the payload.
enum EventEnvelope {
    static let version: UInt8 = 1
    private static let cachedFlag: UInt8 = 1
    private static let revisionFlag: UInt8 = 2

    static func encode(_ event: BackboneEvent) -> ByteBuffer {
        let excluded = event.excludedSocket?.description ?? ""
        var buffer = ByteBufferAllocator().buffer(capacity: 11 + excluded.utf8.count + event.payload.readableBytes)
        buffer.writeInteger(Self.version)
        buffer.writeInteger((event.isCached ? Self.cachedFlag : 0) | (event.presenceRevision == nil ? 0 : Self.revisionFlag))
        if let revision = event.presenceRevision { buffer.writeInteger(revision) }
        buffer.writeInteger(UInt8(excluded.utf8.count))
        buffer.writeString(excluded)
        buffer.writeImmutableBuffer(event.payload)
        return buffer
    }

    /// The event in `buffer`, or `nil` when it was not written by ``encode(_:)``.
    static func decode(_ buffer: ByteBuffer, app: String, channel: String) -> BackboneEvent? {
        var buffer = buffer
        guard buffer.readInteger(as: UInt8.self) == Self.version,
            let flags = buffer.readInteger(as: UInt8.self)
        else { return nil }
        var revision: UInt64?
        if flags & Self.revisionFlag != 0 {
            guard let value = buffer.readInteger(as: UInt64.self) else { return nil }
            revision = value
        }
        guard let length = buffer.readInteger(as: UInt8.self),
            let excluded = buffer.readString(length: Int(length))
        else { return nil }
        let socket: SocketID?
        if excluded.isEmpty {
            socket = nil
        } else {
            guard let parsed = SocketID(excluded) else { return nil }
            socket = parsed
        }
        return BackboneEvent(
            app: app, channel: channel, payload: buffer, excludedSocket: socket, isCached: flags & Self.cachedFlag != 0,
            presenceRevision: revision
        )
    }
}
