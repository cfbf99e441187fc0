import Foundation
import NIOCore
import NIOHTTP1
import PusherProtocol

/// Builds signed `POST /apps/{id}/events` and `/batch_events` requests (PROTOCOL.md,
/// "HTTP API") whose event data carries the publisher's clock.
///
/// Each event's `data` is ``EventData``, so message size is a benchmark parameter and
/// subscribers can read `t` without decoding the rest.
struct PublishRequestBuilder: Sendable {
    var host: String
    var appID: String
    var appKey: String
    var signature: RequestSignature
    var dataBytes: Int

    init(host: String, appID: String, appKey: String, secret: String, dataBytes: Int) {
        self.host = host
        self.appID = appID
        self.appKey = appKey
        self.signature = RequestSignature(appKey: appKey, secret: secret, timestampWindowSeconds: 600)
        self.dataBytes = dataBytes
    }

    /// One event goes to `/events`; several to `/batch_events` (at most `max_batch_size`).
    func makeRequest(
        events: [(channel: String, sequence: Int)],
        sentAt: UInt64,
        allocator: ByteBufferAllocator
    ) -> (head: HTTPRequestHead, body: ByteBuffer) {
        var body: [UInt8] = []
        body.reserveCapacity(events.count * (self.dataBytes + 80) + 16)
        let path: String
        if events.count == 1 {
            path = "/apps/\(self.appID)/events"
            self.appendEvent(events[0], sentAt: sentAt, to: &body)
        } else {
            path = "/apps/\(self.appID)/batch_events"
            body.append(contentsOf: #"{"batch":["#.utf8)
            for (index, event) in events.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                self.appendEvent(event, sentAt: sentAt, to: &body)
            }
            body.append(contentsOf: "]}".utf8)
        }
        var parameters = [
            "auth_key": self.appKey,
            "auth_timestamp": String(Int(Date().timeIntervalSince1970)),
            "auth_version": "1.0",
            "body_md5": RequestSignature.md5(of: body),
        ]
        parameters["auth_signature"] = self.signature.sign(method: "POST", path: path, parameters: parameters)
        let query = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.host)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "\(path)?\(query)", headers: headers)
        return (head, allocator.buffer(bytes: body))
    }

    /// `{"name":"bench","channel":C,"data":"{\"t\":T,\"seq\":S,\"pad\":\"xx…\"}"}`: the data
    /// is written already escaped, since it travels as a JSON string.
    private func appendEvent(_ event: (channel: String, sequence: Int), sentAt: UInt64, to body: inout [UInt8]) {
        body.append(contentsOf: #"{"name":"\#(ServerMessage.benchmarkEventName)","channel":""#.utf8)
        body.append(contentsOf: event.channel.utf8)
        body.append(contentsOf: #"","data":""#.utf8)
        EventData.append(sentAt: sentAt, sequence: event.sequence, size: self.dataBytes, escaped: true, to: &body)
        body.append(contentsOf: #""}"#.utf8)
    }
}
