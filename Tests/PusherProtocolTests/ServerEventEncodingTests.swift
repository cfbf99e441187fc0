import PusherProtocol
import Testing

@Suite("Server event encoding")
struct ServerEventEncodingTests {
    func text(_ event: ServerEvent) -> String {
        String(decoding: event.encoded, as: UTF8.self)
    }

    @Test("connection_established carries socket_id and activity_timeout as a JSON string")
    func connectionEstablished() {
        let event = ServerEvent.connectionEstablished(socketID: SocketID(major: 123, minor: 456), activityTimeout: 120)
        #expect(
            self.text(event)
                == #"{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\",\"activity_timeout\":120}"}"#
        )
    }

    @Test("pusher:error carries code and message as a JSON string")
    func error() {
        #expect(
            self.text(.error(code: .clientEventRejected, message: "Too \"many\" events"))
                == #"{"event":"pusher:error","data":"{\"code\":4301,\"message\":\"Too \\\"many\\\" events\"}"}"#
        )
        #expect(
            self.text(.error(code: nil, message: "bad"))
                == #"{"event":"pusher:error","data":"{\"code\":null,\"message\":\"bad\"}"}"#
        )
    }

    @Test("pong and ping carry an empty object as a string")
    func pingPong() {
        #expect(self.text(.pong) == #"{"event":"pusher:pong","data":"{}"}"#)
        #expect(self.text(.ping) == #"{"event":"pusher:ping","data":"{}"}"#)
    }

    @Test("subscription_succeeded on a plain channel carries {} as a string")
    func subscriptionSucceeded() {
        #expect(
            self.text(.subscriptionSucceeded(channel: "private-chat"))
                == #"{"event":"pusher_internal:subscription_succeeded","channel":"private-chat","data":"{}"}"#
        )
    }

    @Test("subscription_succeeded on presence carries ids, hash and count in join order")
    func presenceSubscriptionSucceeded() {
        let snapshot = PresenceSnapshot(members: [
            PresenceMember(userID: "10", userInfo: .object([("name", .string("Mr. Channels"))])),
            PresenceMember(userID: "2", userInfo: nil),
        ])
        #expect(
            self.text(.subscriptionSucceeded(channel: "presence-room", presence: snapshot))
                == #"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"10\",\"2\"],\"hash\":{\"10\":{\"name\":\"Mr. Channels\"},\"2\":null},\"count\":2}}"}"#
        )
    }

    @Test("an empty presence snapshot still names ids, hash and count")
    func emptyPresenceSnapshot() {
        #expect(
            self.text(.subscriptionSucceeded(channel: "presence-room", presence: PresenceSnapshot(members: [])))
                == #"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[],\"hash\":{},\"count\":0}}"}"#
        )
    }

    @Test("subscription_error carries type, error and status")
    func subscriptionError() {
        #expect(
            self.text(
                .subscriptionError(channel: "private-x", type: "AuthError", error: "Invalid signature", status: 401)
            )
                == #"{"event":"pusher:subscription_error","channel":"private-x","data":"{\"type\":\"AuthError\",\"error\":\"Invalid signature\",\"status\":401}"}"#
        )
    }

    @Test("member_added and member_removed carry the user as a JSON string")
    func membership() {
        let member = PresenceMember(userID: "10", userInfo: .object([("name", .string("Mr. Channels"))]))
        #expect(
            self.text(.memberAdded(channel: "presence-room", member: member))
                == #"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"10\",\"user_info\":{\"name\":\"Mr. Channels\"}}"}"#
        )
        #expect(
            self.text(.memberRemoved(channel: "presence-room", userID: "10"))
                == #"{"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"10\"}"}"#
        )
    }

    @Test("a client event relays its data verbatim and names the presence sender")
    func clientEventWithUserID() {
        let event = ServerEvent(
            event: "client-typing",
            channel: "presence-room",
            data: .json(#"{"b":1.50,"a":"x"}"#),
            userID: "10"
        )
        #expect(
            self.text(event)
                == #"{"event":"client-typing","channel":"presence-room","data":{"b":1.50,"a":"x"},"user_id":"10"}"#
        )
    }

    @Test("an HTTP-triggered event carries the published data as a JSON string")
    func triggeredEvent() {
        let event = ServerEvent(event: "my-event", channel: "news", data: .string(#"{"message":"hi\n"}"#))
        #expect(self.text(event) == #"{"event":"my-event","channel":"news","data":"{\"message\":\"hi\\n\"}"}"#)
    }

    @Test("cache_miss and signin_success have the documented shape")
    func cacheMissAndSignIn() {
        #expect(
            self.text(.cacheMiss(channel: "cache-x"))
                == #"{"event":"pusher:cache_miss","channel":"cache-x","data":"{}"}"#
        )
        #expect(
            self.text(.signinSuccess(userData: #"{"id":"12345"}"#))
                == #"{"event":"pusher:signin_success","data":"{\"user_data\":\"{\\\"id\\\":\\\"12345\\\"}\"}"}"#
        )
    }

    @Test("every encoded event parses back as JSON")
    func encodedEventsAreJSON() throws {
        let events: [ServerEvent] = [
            .pong, .error(code: .unauthorized, message: "nö \u{01}"), .cacheMiss(channel: "cache-x"),
            ServerEvent(event: "e\"v", channel: "c\\h", data: .string("\u{7}"), userID: "u\n"),
        ]
        for event in events {
            let value = try JSONParser.parse(bytes: event.encoded)
            #expect(value["event"] == .string(event.event))
        }
    }
}
