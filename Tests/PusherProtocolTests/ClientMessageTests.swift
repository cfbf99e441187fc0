import PusherProtocol
import Testing

@Suite("Client message parsing")
struct ClientMessageTests {
    func parse(_ text: String) throws(ClientMessageError) -> ClientMessage {
        try ClientMessage(parsing: Array(text.utf8))
    }

    @Test("a subscribe message keeps its event, channel and data")
    func parsesFields() throws {
        let message = try self.parse(#"{"event":"client-typing","channel":"private-chat","data":{"b":1,"a":[2]}}"#)
        #expect(message.event == "client-typing")
        #expect(message.channel == "private-chat")
        #expect(message.data?.serialized == #"{"b":1,"a":[2]}"#)
    }

    @Test("a null or absent channel is no channel")
    func nullChannelIsNil() throws {
        #expect(try self.parse(#"{"event":"pusher:ping","channel":null}"#).channel == nil)
        #expect(try self.parse(#"{"event":"pusher:ping"}"#).channel == nil)
        #expect(try self.parse(#"{"event":"pusher:ping"}"#).data == nil)
    }

    @Test("text that is not JSON is refused as invalid JSON")
    func invalidJSON() {
        let error = #expect(throws: ClientMessageError.self) { try self.parse(#"{"event":"pusher:ping",}"#) }
        guard case .invalidJSON? = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
    }

    @Test("a JSON document that is not an object is refused")
    func notAnObject() {
        for text in ["[]", "\"pusher:ping\"", "1", "null"] {
            #expect(throws: ClientMessageError.notAnObject) { try self.parse(text) }
        }
    }

    @Test("an object without event is refused")
    func missingEvent() {
        #expect(throws: ClientMessageError.missingEvent) { try self.parse(#"{"channel":"x","data":{}}"#) }
    }

    @Test("an event that is not a non-empty string is refused")
    func eventNotAString() {
        for text in [#"{"event":1}"#, #"{"event":""}"#, #"{"event":null}"#, #"{"event":["pusher:ping"]}"#] {
            #expect(throws: ClientMessageError.eventNotAString) { try self.parse(text) }
        }
    }

    @Test("a channel that is not a string is refused")
    func channelNotAString() {
        for text in [#"{"event":"x","channel":5}"#, #"{"event":"x","channel":{}}"#, #"{"event":"x","channel":false}"#] {
            #expect(throws: ClientMessageError.channelNotAString) { try self.parse(text) }
        }
    }

    @Test("payload reads data given as an object or as a JSON-encoded string")
    func payloadAcceptsBothForms() throws {
        let object = try self.parse(#"{"event":"pusher:subscribe","data":{"channel":"a"}}"#)
        let string = try self.parse(#"{"event":"pusher:subscribe","data":"{\"channel\":\"a\"}"}"#)
        #expect(object.payload?["channel"] == .string("a"))
        #expect(string.payload?["channel"] == .string("a"))
    }

    @Test("payload is nil for data that is not an object")
    func payloadNilForNonObjects() throws {
        for text in [
            #"{"event":"x","data":"not json"}"#, #"{"event":"x","data":"[1]"}"#, #"{"event":"x","data":[1]}"#,
            #"{"event":"x","data":7}"#, #"{"event":"x"}"#,
        ] {
            #expect(try self.parse(text).payload == nil)
        }
    }
}
