import PusherProtocol
import Testing

/// The worked example of Pusher's HTTP API reference
/// (https://pusher.com/docs/channels/library_auth_reference/rest-api/#worked-authentication-example):
/// app 3, `POST /apps/3/events`, auth_timestamp 1353088179. body_md5 and auth_signature are quoted
/// from the docs and were re-derived independently with Python's hashlib.md5 and hmac.
enum HTTPDocsVector {
    static let body = Array(#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#.utf8)
    static let timestamp = 1_353_088_179.0
    static let bodyMD5 = "ec365a775a4cd0599faeb73354201b6f"
    static let signature = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    /// `hashlib.md5(b"").hexdigest()`, what the Python SDK sends on GET.
    static let emptyBodyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

    static func query(
        signature: String = signature,
        key: String = PusherDocsVector.key
    )
        -> [(name: String, value: String)]
    {
        [
            ("auth_key", key), ("auth_timestamp", "1353088179"), ("auth_version", "1.0"),
            ("body_md5", bodyMD5), ("auth_signature", signature),
        ]
    }
}

@Suite("HTTP API request signatures")
struct RequestSignatureTests {
    let verifier = RequestSignature(
        appKey: PusherDocsVector.key,
        secret: PusherDocsVector.secret,
        timestampWindowSeconds: 600
    )

    /// Verifies a `POST /apps/3/events` carrying the docs' body, at the docs' time.
    private func verifyDocsEventsPost(_ query: [(name: String, value: String)]) -> RequestSignatureError? {
        self.verifier.verify(
            method: "POST", path: "/apps/3/events", query: query, body: HTTPDocsVector.body, now: HTTPDocsVector.timestamp
        )
    }

    @Test("the HTTP API worked example from the Pusher docs verifies")
    func docsVectorVerifies() {
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(),
            body: HTTPDocsVector.body,
            now: HTTPDocsVector.timestamp + 5
        )
        #expect(failure == nil)
    }

    @Test("body_md5 of the docs' body is the documented value")
    func bodyMD5MatchesDocs() {
        #expect(RequestSignature.md5(of: HTTPDocsVector.body) == HTTPDocsVector.bodyMD5)
        #expect(RequestSignature.md5(of: [UInt8]()) == HTTPDocsVector.emptyBodyMD5)
    }

    @Test("signing the docs' parameters yields the documented auth_signature")
    func signMatchesDocs() {
        let signature = self.verifier.sign(
            method: "POST",
            path: "/apps/3/events",
            parameters: [
                "auth_key": PusherDocsVector.key, "auth_timestamp": "1353088179", "auth_version": "1.0",
                "body_md5": HTTPDocsVector.bodyMD5,
            ]
        )
        #expect(signature == HTTPDocsVector.signature)
    }

    @Test("a timestamp up to the window away on either side is accepted", arguments: [-600.0, 600.0, 0.0])
    func timestampInsideWindowIsAccepted(offset: Double) {
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(),
            body: HTTPDocsVector.body,
            now: HTTPDocsVector.timestamp + offset
        )
        #expect(failure == nil)
    }

    @Test("a timestamp outside the window on either side is stale", arguments: [-601.0, 601.0, -86_400.0, 86_400.0])
    func timestampOutsideWindowIsStale(offset: Double) {
        // `now - timestamp` = offset: positive means the request is from the past, negative from the future.
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(),
            body: HTTPDocsVector.body,
            now: HTTPDocsVector.timestamp + offset
        )
        #expect(failure == .staleTimestamp(windowSeconds: 600))
    }

    @Test("a non-numeric auth_timestamp is refused as stale")
    func nonNumericTimestampIsRefused() {
        var query = HTTPDocsVector.query()
        query[1].value = "yesterday"
        let failure = self.verifyDocsEventsPost(query)
        #expect(failure == .staleTimestamp(windowSeconds: 600))
    }

    @Test("a body that does not match body_md5 is refused")
    func bodyMD5MismatchIsRefused() {
        var body = HTTPDocsVector.body
        body[body.count - 3] = UInt8(ascii: "x")
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(),
            body: body,
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == .bodyMD5Mismatch)
    }

    @Test("a request with a body but no body_md5 is refused")
    func missingBodyMD5IsRefused() {
        let parameters = ["auth_key": PusherDocsVector.key, "auth_timestamp": "1353088179", "auth_version": "1.0"]
        let signature = self.verifier.sign(method: "POST", path: "/apps/3/events", parameters: parameters)
        let query = parameters.map { (name: $0.key, value: $0.value) } + [("auth_signature", signature)]
        let failure = self.verifyDocsEventsPost(query)
        #expect(failure == .missingBodyMD5)
    }

    @Test("a GET carrying the empty body's md5, as the Python SDK sends, verifies")
    func getWithEmptyBodyMD5Verifies() {
        // Independent expectation: python3 -c 'import hmac,hashlib; print(hmac.new(b"7ad3773142a6692b25b8",
        //   b"GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0"
        //   b"&body_md5=d41d8cd98f00b204e9800998ecf8427e", hashlib.sha256).hexdigest())'
        let expected = "5c3cd75022c4f62c35ad22f6a9cce366c860477a3b7092ca790ecfc17e6af302"
        let query: [(name: String, value: String)] = [
            ("auth_key", PusherDocsVector.key), ("auth_timestamp", "1353088179"), ("auth_version", "1.0"),
            ("body_md5", HTTPDocsVector.emptyBodyMD5), ("auth_signature", expected),
        ]
        let failure = self.verifier.verify(
            method: "GET",
            path: "/apps/3/channels",
            query: query,
            body: [UInt8](),
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == nil)
    }

    @Test("a GET without body_md5 verifies")
    func getWithoutBodyMD5Verifies() {
        let parameters = ["auth_key": PusherDocsVector.key, "auth_timestamp": "1353088179", "auth_version": "1.0"]
        let signature = self.verifier.sign(method: "GET", path: "/apps/3/channels", parameters: parameters)
        let query = parameters.map { (name: $0.key, value: $0.value) } + [("auth_signature", signature)]
        let failure = self.verifier.verify(
            method: "GET",
            path: "/apps/3/channels",
            query: query,
            body: [UInt8](),
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == nil)
    }

    @Test("a GET whose body_md5 is not the empty body's is refused")
    func getWithWrongBodyMD5IsRefused() {
        let failure = self.verifier.verify(
            method: "GET",
            path: "/apps/3/channels",
            query: HTTPDocsVector.query(),
            body: [UInt8](),
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == .bodyMD5Mismatch)
    }

    @Test("an auth_key of another app is refused")
    func wrongAuthKeyIsRefused() {
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(key: "not-the-key"),
            body: HTTPDocsVector.body,
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == .unknownKey)
    }

    @Test("a signature with one hex digit changed is refused")
    func forgedSignatureIsRefused() {
        let failure = self.verifier.verify(
            method: "POST",
            path: "/apps/3/events",
            query: HTTPDocsVector.query(signature: forging(HTTPDocsVector.signature)),
            body: HTTPDocsVector.body,
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == .invalidSignature)
    }

    @Test("the docs' signature does not verify for another method or path")
    func signatureCoversMethodAndPath() {
        for (method, path) in [("PUT", "/apps/3/events"), ("POST", "/apps/4/events")] {
            let failure = self.verifier.verify(
                method: method,
                path: path,
                query: HTTPDocsVector.query(),
                body: HTTPDocsVector.body,
                now: HTTPDocsVector.timestamp
            )
            #expect(failure == .invalidSignature)
        }
    }

    @Test(
        "a request missing an auth parameter is refused",
        arguments: ["auth_key", "auth_timestamp", "auth_version", "auth_signature"]
    )
    func missingAuthParameterIsRefused(name: String) {
        let query = HTTPDocsVector.query().filter { $0.name != name }
        let failure = self.verifyDocsEventsPost(query)
        #expect(failure == .missingParameters)
    }

    @Test("parameters are signed sorted by their lower-cased names")
    func parametersAreSortedByLowerCasedName() {
        // Case-sensitive sorting would put "Zeta" before "alpha"; Pusher signs lower-cased keys, sorted:
        //   GET\n/apps/3/channels\nalpha=1&auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&zeta=Some thing
        // Independent expectation: python3 -c 'import hmac,hashlib; print(hmac.new(b"7ad3773142a6692b25b8",
        //   b"GET\n/apps/3/channels\nalpha=1&auth_key=278d425bdf160c739803&auth_timestamp=1353088179"
        //   b"&auth_version=1.0&zeta=Some thing", hashlib.sha256).hexdigest())'
        let expected = "108b092f7c7392d1efbd5aa8c553d9dec422240f66378bbb213528940fe08f91"
        let query: [(name: String, value: String)] = [
            ("Zeta", "Some thing"), ("auth_key", PusherDocsVector.key), ("ALPHA", "1"),
            ("auth_timestamp", "1353088179"), ("Auth_Version", "1.0"), ("auth_signature", expected),
        ]
        let failure = self.verifier.verify(
            method: "GET",
            path: "/apps/3/channels",
            query: query,
            body: [UInt8](),
            now: HTTPDocsVector.timestamp
        )
        #expect(failure == nil)
    }

    @Test("of a repeated parameter the last one counts, in the check and in the signed string")
    func repeatedParameterLastOneCounts() {
        let stale = ("auth_timestamp", "1")
        let docs = HTTPDocsVector.query()
        #expect(self.verifyDocsEventsPost([stale] + docs) == nil)
        #expect(self.verifyDocsEventsPost(docs + [stale]) == .staleTimestamp(windowSeconds: 600))
        // A repeated name is signed once: a second auth_version would change the string.
        #expect(self.verifyDocsEventsPost([("AUTH_VERSION", "2.0")] + docs) == nil)
    }
}
