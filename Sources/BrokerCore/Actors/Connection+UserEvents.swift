import Backbone
import BrokerConfig
import CoreMetrics
import Logging
import NIOCore
import PusherProtocol

/// What a client does as a user: sign in (PROTOCOL.md, "User authentication") and send
/// client events to the others on a channel.
extension Connection {
    // MARK: - Sign-in

    func signIn(_ message: ClientMessage) {
        guard let payload = message.payload, let auth = payload["auth"]?.stringValue,
            let userData = payload["user_data"]?.stringValue
        else {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: "pusher:signin needs data {\"auth\": \"...\", \"user_data\": \"...\"}")
            return
        }
        guard self.app.channelAuthorization.isValid(auth: auth, socketID: self.socketID, userData: userData) else {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: "Invalid signature for pusher:signin")
            return
        }
        let parsed: UserData
        do {
            parsed = try UserData(parsing: userData, maximumIDLength: self.limits.maxUserIDLength)
        } catch {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: error.description)
            return
        }
        if let previous = self.user, previous.id != parsed.id {
            self.shard.assumeIsolated { $0.signOut(self, userID: previous.id) }
        }
        self.user = (parsed.id, userData)
        self.shard.assumeIsolated { $0.signIn(self, userID: parsed.id) }
        self.outbound.send(.signinSuccess(userData: userData))
    }

    // MARK: - Client events

    func relayClientEvent(_ message: ClientMessage, now: NIODeadline) {
        guard self.app.configuration.clientEvents else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client events are not enabled for this app")
            return
        }
        guard let name = message.channel, case .active(let channel, let member)? = self.subscriptions[name] else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client event on a channel this socket is not subscribed to")
            return
        }
        guard channel.acceptsClientEvents else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client events are only allowed on private and presence channels")
            return
        }
        guard message.event.count <= self.limits.maxEventNameLength else {
            self.refuse(.eventSize, code: .clientEventRejected, message: "Event name is longer than \(self.limits.maxEventNameLength) characters")
            return
        }
        let data = message.data?.serialized
        guard (data?.utf8.count ?? 0) <= self.limits.maxEventBytes else {
            self.refuse(.eventSize, code: .clientEventRejected, message: "Event data is larger than \(self.limits.maxEventBytes) bytes")
            return
        }
        guard self.clientEvents.tryConsume(now: now) else {
            self.refuse(
                .clientEventRate,
                code: .clientEventRejected,
                message: "Client event rate limit exceeded: at most \(self.limits.clientEventsPerSecond) per second"
            )
            return
        }
        self.app.metrics.clientEvents.increment()
        let event = ServerEvent(event: message.event, channel: name, data: data.map { .json($0) }, userID: member?.userID)
        self.broker.publish(app: self.app, channel: channel, event: event, excluding: self.socketID)
        // Webhooks carry the data as the client sent it: a string as is, anything else as JSON text.
        let webhookData = message.data?.stringValue ?? data
        self.broker.eventSink?.record(
            .clientEvent(channel: name, event: message.event, data: webhookData, socketID: self.socketID, userID: member?.userID),
            app: self.app
        )
    }
}
