/// Every NATS subject and key-value name the cluster uses, in one place.
///
/// Channel events: `sb.ch.<app>.<channel>`, each token base64url so any valid name
/// is one token. Keys of the presence bucket: `<app>.<channel>` the same way.
enum ClusterNames {
    static let presenceBucket = "sb-presence"
    static let cacheBucket = "sb-cache"
    static let leaseBucket = "sb-nodes"
    /// Which nodes have subscribers on each channel, for `channel_occupied` / `channel_vacated`.
    static let occupancyBucket = "sb-occupancy"
    /// Cluster-wide occupancy queries; every node answers.
    static let querySubject = "sb.query"
    /// `terminate_connections`; every node closes the user's local sockets.
    static let terminateSubject = "sb.terminate"

    static func channelSubject(app: String, channel: String) -> String {
        "sb.ch.\(Base64URL.encode(app)).\(Base64URL.encode(channel))"
    }

    static func channelKey(app: String, channel: String) -> String {
        "\(Base64URL.encode(app)).\(Base64URL.encode(channel))"
    }

    /// A core publish to the key's stream subject stores it in the cache bucket
    /// without waiting for JetStream's acknowledgement.
    static func cacheSubject(app: String, channel: String) -> String {
        "$KV.\(Self.cacheBucket).\(Self.channelKey(app: app, channel: channel))"
    }

    /// The app and channel of a presence key, or `nil` for a key this code did not write.
    static func channel(ofKey key: String) -> (app: String, channel: String)? {
        let tokens = key.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count == 2, let app = Base64URL.decode(tokens[0]), let channel = Base64URL.decode(tokens[1]) else {
            return nil
        }
        return (app, channel)
    }
}
