/// An app's `allowed_origins`: which pages may open its sockets.
///
/// An empty list allows any origin, and so does a request without `Origin` (server
/// SDKs and native clients send none; only browsers are held to the list). An entry is
/// either an exact origin (`https://app.example.com`) or `*.example.com`, which allows
/// every subdomain of example.com on any scheme and port.
struct OriginPolicy {
    let allowed: [String]

    func allows(_ origin: String?) -> Bool {
        guard !self.allowed.isEmpty, let origin else { return true }
        let lowered = origin.lowercased()
        let host = Self.host(of: lowered)
        return self.allowed.contains { entry in
            let entry = entry.lowercased()
            if entry.hasPrefix("*.") {
                return host.hasSuffix(String(entry.dropFirst(1)))
            }
            return entry == lowered
        }
    }

    /// `https://a.example.com:8443` → `a.example.com`.
    private static func host(of origin: String) -> String {
        let parts = origin.split(separator: "/", omittingEmptySubsequences: true)
        let authority = parts.count > 1 && parts[0].hasSuffix(":") ? parts[1] : parts.first ?? ""
        return String(authority.prefix { $0 != ":" })
    }
}
