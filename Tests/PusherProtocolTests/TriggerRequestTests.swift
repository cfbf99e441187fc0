import PusherProtocol
import Testing

@Suite("HTTP trigger requests")
struct TriggerRequestTests {
    let limits = TriggerRequest.Limits(maximumChannels: 100, maximumNameLength: 200, maximumDataBytes: 10_240)

    func request(_ json: String) throws(TriggerRequestError) -> TriggerRequest {
        try TriggerRequest(json: try! JSONParser.parse(json), limits: self.limits)
    }

    func body(name: String = "ev", data: String = "d", channels: [String]) -> String {
        JSONValue.object([
            ("name", .string(name)), ("data", .string(data)), ("channels", .array(channels.map { .string($0) })),
        ]).serialized
    }

    @Test("a single-channel trigger is read with its optional fields")
    func singleChannel() throws {
        let request = try self.request(
            #"{"name":"my-event","data":"{\"a\":1}","channel":"news","socket_id":"1.2","info":"subscription_count,user_count"}"#
        )
        #expect(request.name == "my-event")
        #expect(request.data == #"{"a":1}"#)
        #expect(request.channels.map(\.name) == ["news"])
        #expect(request.excludedSocket == SocketID(major: 1, minor: 2))
        #expect(request.info == ["subscription_count", "user_count"])
    }

    @Test("a multi-channel trigger keeps the channels in order")
    func multipleChannels() throws {
        let request = try self.request(self.body(channels: ["a", "private-b", "presence-c"]))
        #expect(request.channels.map(\.name) == ["a", "private-b", "presence-c"])
        #expect(request.excludedSocket == nil)
        #expect(request.info.isEmpty)
    }

    @Test("a null socket_id excludes nobody")
    func nullSocketID() throws {
        #expect(try self.request(#"{"name":"e","data":"d","channel":"a","socket_id":null}"#).excludedSocket == nil)
    }

    @Test("a body that is not an object is refused")
    func notAnObject() {
        #expect(throws: TriggerRequestError.notAnObject) { try self.request("[]") }
    }

    @Test("name is required and non-empty")
    func nameRequired() {
        #expect(throws: TriggerRequestError.missingField("name")) { try self.request(#"{"data":"d","channel":"a"}"#) }
        #expect(throws: TriggerRequestError.missingField("name")) {
            try self.request(#"{"name":"","data":"d","channel":"a"}"#)
        }
        #expect(throws: TriggerRequestError.missingField("name")) {
            try self.request(#"{"name":5,"data":"d","channel":"a"}"#)
        }
    }

    @Test("an event name of 200 characters is accepted, 201 is too long")
    func nameLength() throws {
        _ = try self.request(self.body(name: String(repeating: "n", count: 200), channels: ["a"]))
        #expect(throws: TriggerRequestError.nameTooLong(maximum: 200)) {
            try self.request(self.body(name: String(repeating: "n", count: 201), channels: ["a"]))
        }
    }

    @Test("data is required and must be a string")
    func dataRequired() {
        #expect(throws: TriggerRequestError.missingField("data")) { try self.request(#"{"name":"e","channel":"a"}"#) }
        #expect(throws: TriggerRequestError.dataNotAString) {
            try self.request(#"{"name":"e","data":{"a":1},"channel":"a"}"#)
        }
    }

    @Test("data of 10240 UTF-8 bytes is accepted, one byte more is a size refusal")
    func dataSize() throws {
        _ = try self.request(self.body(data: String(repeating: "é", count: 5_120), channels: ["a"]))
        let error = #expect(throws: TriggerRequestError.self) {
            try self.request(self.body(data: String(repeating: "é", count: 5_120) + "x", channels: ["a"]))
        }
        #expect(error == .dataTooLarge(maximum: 10_240))
        #expect(error?.isSizeLimit == true)
    }

    @Test("exactly one of channel or channels must name at least one channel")
    func channelsShape() {
        for json in [
            #"{"name":"e","data":"d"}"#,
            #"{"name":"e","data":"d","channel":"a","channels":["b"]}"#,
            #"{"name":"e","data":"d","channels":[]}"#,
            #"{"name":"e","data":"d","channels":[1]}"#,
            #"{"name":"e","data":"d","channels":"a"}"#,
            #"{"name":"e","data":"d","channel":["a"]}"#,
            #"{"name":"e","data":"d","channel":null}"#,
        ] {
            #expect(throws: TriggerRequestError.invalidChannels) { try self.request(json) }
        }
    }

    @Test("100 channels are accepted, 101 are refused as a bad request, not a size refusal")
    func channelCount() throws {
        _ = try self.request(self.body(channels: (0..<100).map { "c\($0)" }))
        let error = #expect(throws: TriggerRequestError.self) {
            try self.request(self.body(channels: (0..<101).map { "c\($0)" }))
        }
        #expect(error == .tooManyChannels(maximum: 100))
        #expect(error?.isSizeLimit == false)
    }

    @Test("an invalid channel name is refused with the name and the reason")
    func invalidChannelName() {
        #expect(throws: TriggerRequestError.invalidChannelName("bad name", .invalid("bad name"))) {
            try self.request(self.body(channels: ["ok", "bad name"]))
        }
    }

    @Test("a socket_id that is not <n>.<n> is refused")
    func invalidSocketID() {
        #expect(throws: TriggerRequestError.invalidSocketID) {
            try self.request(#"{"name":"e","data":"d","channel":"a","socket_id":"abc"}"#)
        }
        #expect(throws: TriggerRequestError.invalidSocketID) {
            try self.request(#"{"name":"e","data":"d","channel":"a","socket_id":1.2}"#)
        }
    }

    @Test("only data and batch size are size limits")
    func sizeLimitClassification() {
        #expect(TriggerRequestError.dataTooLarge(maximum: 1).isSizeLimit)
        #expect(TriggerRequestError.batchTooLarge(maximum: 1).isSizeLimit)
        for error: TriggerRequestError in [
            .notAnObject, .missingField("x"), .nameTooLong(maximum: 1), .dataNotAString, .invalidChannels,
            .tooManyChannels(maximum: 1), .invalidChannelName("x", .empty), .invalidSocketID, .notABatch,
        ] {
            #expect(!error.isSizeLimit)
        }
    }

    @Test("a batch of 10 events is read in order")
    func batch() throws {
        let entries = (0..<10).map { index in
            JSONValue.object([("name", .string("e\(index)")), ("data", .string("d")), ("channel", .string("c"))])
        }
        let batch = try BatchTriggerRequest(
            json: .object([("batch", .array(entries))]),
            maximumEvents: 10,
            limits: self.limits
        )
        #expect(batch.events.map(\.name) == (0..<10).map { "e\($0)" })
    }

    @Test("a batch of 11 events is a size refusal")
    func batchTooLarge() {
        let entries = (0..<11).map { _ in
            JSONValue.object([("name", .string("e")), ("data", .string("d")), ("channel", .string("c"))])
        }
        #expect(throws: TriggerRequestError.batchTooLarge(maximum: 10)) {
            try BatchTriggerRequest(json: .object([("batch", .array(entries))]), maximumEvents: 10, limits: self.limits)
        }
    }

    @Test("a body without a batch array is refused")
    func notABatch() {
        for json in ["{}", #"{"batch":{}}"#, "[]", #"{"batch":"x"}"#] {
            #expect(throws: TriggerRequestError.notABatch) {
                try BatchTriggerRequest(json: try! JSONParser.parse(json), maximumEvents: 10, limits: self.limits)
            }
        }
    }

    @Test("one invalid entry refuses the whole batch")
    func batchEntryError() {
        let json = #"{"batch":[{"name":"e","data":"d","channel":"c"},{"name":"e","channel":"c"}]}"#
        #expect(throws: TriggerRequestError.missingField("data")) {
            try BatchTriggerRequest(json: try! JSONParser.parse(json), maximumEvents: 10, limits: self.limits)
        }
    }
}
