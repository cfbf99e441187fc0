extension AppConfiguration {
    /// Reads `allowed_origins:`; absent or empty allows any origin. Entries are
    /// matched against the browser's `Origin` header, so a wildcard is only
    /// accepted where it has one meaning: a leading `*.` for every subdomain.
    /// Anything else with `*` would silently match nothing, which is worse than
    /// an error at load time.
    static func allowedOrigins(reading reader: MappingReader) throws(ConfigError) -> [String] {
        try reader.strings("allowed_origins", problem: Self.problem(withOrigin:)) ?? []
    }

    /// Why `origin` can never match as intended, or `nil` when it is acceptable.
    private static func problem(withOrigin origin: String) -> String? {
        if origin.isEmpty {
            return "must not be empty"
        }
        if origin == "*" {
            return "'*' is not an origin; leave allowed_origins out to allow any origin"
        }
        let host = origin.hasPrefix("*.") ? origin.dropFirst(2) : Substring(origin)
        if host.isEmpty || host.contains("*") {
            return "'*' is only allowed as a leading '*.', as in *.example.com"
        }
        return nil
    }
}
