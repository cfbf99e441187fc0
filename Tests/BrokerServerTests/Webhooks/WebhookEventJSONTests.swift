import BrokerConfig
import BrokerCore
import PusherProtocol
import Testing

@testable import BrokerServer

@Suite struct WebhookEventJSONTests {
    @Test(arguments: [
        (ChannelLifecycleEvent.channelOccupied(channel: "room-1"), #"{"name":"channel_occupied","channel":"room-1"}"#),
        (.channelVacated(channel: "room-1"), #"{"name":"channel_vacated","channel":"room-1"}"#),
        (
            .memberAdded(channel: "presence-a", userID: "u1"),
            #"{"name":"member_added","channel":"presence-a","user_id":"u1"}"#
        ),
        (
            .memberRemoved(channel: "presence-a", userID: "u1"),
            #"{"name":"member_removed","channel":"presence-a","user_id":"u1"}"#
        ),
        (.cacheMiss(channel: "cache-x"), #"{"name":"cache_miss","channel":"cache-x"}"#),
        (
            .subscriptionCount(channel: "room-1", count: 42),
            #"{"name":"subscription_count","channel":"room-1","subscription_count":42}"#
        ),
    ])
    func eventsHaveThePusherShape(event: ChannelLifecycleEvent, json: String) {
        #expect(event.webhookJSON.serialized == json)
    }

    @Test func clientEventCarriesDataAsAStringAndTheSender() {
        let event = ChannelLifecycleEvent.clientEvent(
            channel: "presence-a",
            event: "client-typing",
            data: #"{"text":"hi \"there\""}"#,
            socketID: SocketID(major: 123, minor: 456),
            userID: "u1"
        )
        #expect(
            event.webhookJSON.serialized
                == #"{"name":"client_event","channel":"presence-a","event":"client-typing","#
                + #""data":"{\"text\":\"hi \\\"there\\\"\"}","socket_id":"123.456","user_id":"u1"}"#
        )
    }

    @Test func clientEventWithoutUserLeavesUserIDOut() {
        let event = ChannelLifecycleEvent.clientEvent(
            channel: "private-a",
            event: "client-x",
            data: "{}",
            socketID: SocketID(major: 1, minor: 2),
            userID: nil
        )
        #expect(
            event.webhookJSON.serialized
                == #"{"name":"client_event","channel":"private-a","event":"client-x","data":"{}","socket_id":"1.2"}"#
        )
    }

    @Test func bodyWrapsEventsWithTheTime() {
        let batch = WebhookBatch(endpoint: 0, events: [Array(#"{"a":1}"#.utf8), Array(#"{"b":2}"#.utf8)])
        #expect(
            String(decoding: batch.body(timeMilliseconds: 1_700_000_000_000), as: UTF8.self)
                == #"{"time_ms":1700000000000,"events":[{"a":1},{"b":2}]}"#
        )
    }

    @Test func requestIsSignedWithTheAppSecretAsPusherDoes() {
        let endpoint = WebhookEndpoint(
            appIndex: 0,
            appID: "1",
            appKey: "app-key",
            url: "https://hooks.example.com/",
            eventTypes: ["channel_occupied"],
            signature: HMACSignature(secret: "app-secret")
        )
        let body = #"{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"test"}]}"#
        let request = endpoint.makeRequest(body: Array(body.utf8))
        let headers = Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })
        #expect(headers["X-Pusher-Key"] == "app-key")
        // hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
        #expect(headers["X-Pusher-Signature"] == "e26b969dac59b8781480557e1307bd07e997f69cfb1fb054df0ada69d64e1cc2")
        #expect(headers["Content-Type"] == "application/json")
        #expect(request.url == "https://hooks.example.com/")
        #expect(request.body == Array(body.utf8))
    }
}
