/// The `user_data` of `pusher:signin`: a JSON object whose `id` names the user.
///
/// The broker only needs the id (to route `#server-to-user-<id>` and terminate); the
/// rest (`user_info`, `watchlist`) is the app's and is echoed back untouched.
public struct UserData: Sendable, Equatable {
    public var id: String

    public init(id: String) {
        self.id = id
    }

    public init(parsing text: String, maximumIDLength: Int) throws(UserDataError) {
        guard let document = try? JSONParser.parse(text), document.isObject else { throw .notAnObject }
        guard let id = document["id"]?.stringValue, !id.isEmpty else { throw .missingID }
        guard id.count <= maximumIDLength else { throw .idTooLong(maximum: maximumIDLength) }
        self.init(id: id)
    }
}

public enum UserDataError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnObject
    case missingID
    case idTooLong(maximum: Int)

    public var description: String {
        switch self {
        case .notAnObject: return "user_data must be a JSON object"
        case .missingID: return "user_data must have a non-empty string id"
        case .idTooLong(let maximum): return "user_data id is longer than \(maximum) characters"
        }
    }
}
