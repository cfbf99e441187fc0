#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Yams

extension AppConfiguration {
    /// Reads `webhooks:`, a list of `{url, event_types}` mappings; absent or empty sends
    /// no webhooks (PROTOCOL.md, "Webhooks").
    ///
    /// Everything is checked here rather than at the first delivery: a typo in an event
    /// name would otherwise silently mean "never sent", and a bad URL would only show up
    /// as failures minutes after start.
    static func webhookConfigurations(reading reader: MappingReader) throws(ConfigError) -> [WebhookConfiguration] {
        guard let items = try reader.sequence("webhooks") else {
            return []
        }
        var webhooks: [WebhookConfiguration] = []
        for (index, item) in items.enumerated() {
            let entry = try MappingReader(
                item,
                keyPath: reader.path("webhooks[\(index)]"),
                line: item.mark?.line,
                file: reader.file,
                environment: reader.environment
            )
            webhooks.append(try WebhookConfiguration(reading: entry))
        }
        return webhooks
    }
}

extension WebhookConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["url", "event_types"])
        guard let url = try reader.string("url") else {
            throw reader.error(.missingValue, key: "url", "is required; the endpoint webhooks are POSTed to")
        }
        if let problem = Self.problem(withURL: url) {
            throw reader.error(.invalidValue, key: "url", problem)
        }
        let accepted = Self.eventTypes.sorted().joined(separator: ", ")
        let names = try reader.strings("event_types") { name in
            Self.eventTypes.contains(name) ? nil : "unknown webhook event; expected one of: \(accepted)"
        }
        guard let names, !names.isEmpty else {
            throw reader.error(
                .missingValue,
                key: "event_types",
                "must list at least one event; expected some of: \(accepted)"
            )
        }
        self.init(url: url, eventTypes: Set(names))
    }

    /// Why `url` cannot be posted to, or `nil` when it can. Only http and https are
    /// accepted because the HTTP client speaks nothing else, and a host is required
    /// because `https:/path` parses as a URL but names no server.
    private static func problem(withURL url: String) -> String? {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            return "must start with http:// or https://"
        }
        guard let parsed = URL(string: url, encodingInvalidCharacters: false), let host = parsed.host, !host.isEmpty else {
            return "is not a valid URL"
        }
        return nil
    }
}
