import Benchmark
import BrokerCore
import NIOCore
import PusherProtocol

/// The pure functions every message crosses, measured alone: wall time per call and
/// allocations per call (`mallocCountTotal`, counted by the harness's malloc interposer).
///
/// Each sample runs the body 1,000 times (`scaledIterations`); metrics marked `*` in the
/// output are divided back to one call. Instruction counts would be steadier than wall
/// time, but this machine's virtual CPUs expose no hardware counters.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    /// A client event as pusher-js sends it: the frame a presence or private channel relays.
    let clientEvent = Array(
        (#"{"event":"client-typing","channel":"private-chat-42","#
            + #""data":{"user":"alice","text":"hello there, how are you?"}}"#).utf8
    )
    /// A published event with 100 bytes of data, the benchmark's message.
    let published = ServerEvent(
        event: "bench",
        channel: "bench-fanout",
        data: .string(#"{"t":123456789012,"seq":42,"pad":""# + String(repeating: "x", count: 64) + #""}"#)
    )

    Benchmark("JSON parse: client event") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ClientMessage(parsing: clientEvent))
        }
    }

    /// A `batch_events` body as the server SDKs send it: ten events whose data is JSON
    /// text inside a JSON string, so every quote in it arrives escaped.
    let batchBody: [UInt8] = {
        let data = #"{\"t\":123456789012,\"seq\":42,\"pad\":\""# + String(repeating: "x", count: 64) + #"\"}"#
        let events = (0..<10).map { #"{"name":"bench","channel":"bench-\#($0)","data":""# + data + #""}"# }
        return Array(#"{"batch":["#.utf8) + Array(events.joined(separator: ",").utf8) + Array("]}".utf8)
    }()
    let triggerLimits = TriggerRequest.Limits(maximumChannels: 100, maximumNameLength: 200, maximumDataBytes: 10_240)

    Benchmark("JSON parse: batch_events of 10 events") { benchmark in
        for _ in benchmark.scaledIterations {
            let json = try JSONParser.parse(bytes: batchBody)
            blackHole(try BatchTriggerRequest(json: json, maximumEvents: 10, limits: triggerLimits))
        }
    }

    Benchmark("JSON serialize: client event data") { benchmark in
        let data = try ClientMessage(parsing: clientEvent).data ?? .null
        var output: [UInt8] = []
        output.reserveCapacity(128)
        for _ in benchmark.scaledIterations {
            output.removeAll(keepingCapacity: true)
            data.serialize(into: &output)
            blackHole(output)
        }
    }

    Benchmark("ServerEvent encode: 100-byte published event") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(published.encoded)
        }
    }

    Benchmark("WebSocket frame: ServerEvent to OutboundFrame") { benchmark in
        let allocator = ByteBufferAllocator()
        for _ in benchmark.scaledIterations {
            blackHole(OutboundFrame(event: published, allocator: allocator))
        }
    }

    Benchmark("WebSocket frame: text payload to OutboundFrame") { benchmark in
        let allocator = ByteBufferAllocator()
        let payload = allocator.buffer(bytes: published.encoded)
        for _ in benchmark.scaledIterations {
            blackHole(OutboundFrame(text: payload, allocator: allocator))
        }
    }

    Benchmark("HMAC check: private channel auth") { benchmark in
        let authorization = ChannelAuthorization(appKey: "app-key", secret: "app-secret")
        let socketID = SocketID(major: 1234, minor: 5678)
        let channel = try ChannelName(validating: "private-chat-42")
        let auth = authorization.sign(socketID: socketID, channel: channel)
        for _ in benchmark.scaledIterations {
            blackHole(authorization.isValid(auth: auth, socketID: socketID, channel: channel, channelData: nil))
        }
    }

    Benchmark("HMAC check: signed HTTP API request") { benchmark in
        let signature = RequestSignature(appKey: "app-key", secret: "app-secret", timestampWindowSeconds: 600)
        let body = Array(#"{"name":"bench","channel":"bench-fanout","data":"hello"}"#.utf8)
        let path = "/apps/1/events"
        var parameters = [
            "auth_key": "app-key", "auth_timestamp": "1700000000", "auth_version": "1.0",
            "body_md5": RequestSignature.md5(of: body),
        ]
        parameters["auth_signature"] = signature.sign(method: "POST", path: path, parameters: parameters)
        let query = parameters.map { (name: $0.key, value: $0.value) }
        for _ in benchmark.scaledIterations {
            blackHole(signature.verify(method: "POST", path: path, query: query, body: body, now: 1_700_000_000))
        }
    }
}
