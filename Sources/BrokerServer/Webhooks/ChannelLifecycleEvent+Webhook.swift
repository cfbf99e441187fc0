import BrokerCore
import PusherProtocol

extension ChannelLifecycleEvent {
    /// The event as one entry of a webhook's `events` array, with the fields and
    /// spellings Pusher sends (https://pusher.com/docs/channels/server_api/webhooks/),
    /// so handlers written for Pusher parse it unchanged. A client event's `data` stays
    /// the string the client sent, as Pusher forwards it.
    var webhookJSON: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("name", .string(self.name)),
            ("channel", .string(self.channel)),
        ]
        switch self {
        case .channelOccupied, .channelVacated, .cacheMiss:
            break
        case .memberAdded(_, let userID), .memberRemoved(_, let userID):
            members.append(("user_id", .string(userID)))
        case .clientEvent(_, let event, let data, let socketID, let userID):
            members.append(("event", .string(event)))
            if let data {
                members.append(("data", .string(data)))
            }
            members.append(("socket_id", .string(socketID.description)))
            if let userID {
                members.append(("user_id", .string(userID)))
            }
        case .subscriptionCount(_, let count):
            members.append(("subscription_count", .number(String(count))))
        }
        return .object(members)
    }

    /// How the event takes part in flap suppression: a vacate or removal waits, and its
    /// opposite, arriving while it waits, cancels it (PROTOCOL.md, "Webhooks").
    func holdRole(appIndex: Int) -> WebhookHoldRole {
        switch self {
        case .channelVacated(let channel):
            return .held(.channel(appIndex: appIndex, channel: channel), counterpart: "channel_occupied")
        case .channelOccupied(let channel):
            return .cancels(.channel(appIndex: appIndex, channel: channel), counterpart: "channel_vacated")
        case .memberRemoved(let channel, let userID):
            return .held(.member(appIndex: appIndex, channel: channel, userID: userID), counterpart: "member_added")
        case .memberAdded(let channel, let userID):
            return .cancels(.member(appIndex: appIndex, channel: channel, userID: userID), counterpart: "member_removed")
        case .clientEvent, .cacheMiss, .subscriptionCount:
            return .none
        }
    }
}

/// What identifies "the same channel" or "the same member" when a vacate or removal is
/// weighed against a later occupy or add.
enum WebhookHoldKey: Hashable {
    case channel(appIndex: Int, channel: String)
    case member(appIndex: Int, channel: String, userID: String)
}

/// An event's part in flap suppression; `counterpart` names the opposite event, which
/// decides whether an app that only listens for that one still needs the hold.
enum WebhookHoldRole: Equatable {
    case none
    case held(WebhookHoldKey, counterpart: String)
    case cancels(WebhookHoldKey, counterpart: String)
}
