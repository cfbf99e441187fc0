/// Why a config file was rejected, located precisely enough to fix it without
/// reading the loader: `Config/switchboard.yaml:12: apps[0].secret: environment
/// variable APP_SECRET is not set`.
///
/// Messages name keys, types and environment variable names but never a value
/// read from the file or the environment, so the description is safe to print in
/// deploy logs even when the offending value is a secret.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of mistake this is. A struct over a private enum so new kinds can
    /// be added without breaking callers that switch over the existing ones.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile = "unreadable file"
            case invalidYAML = "invalid YAML"
            case unknownKey = "unknown key"
            case wrongType = "wrong type"
            case missingValue = "missing value"
            case invalidValue = "invalid value"
            case unsetVariable = "unset environment variable"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The file does not exist or is not UTF-8 text.
        public static let unreadableFile = Self(.unreadableFile)
        /// The text is not well-formed YAML, or a mapping repeats a key.
        public static let invalidYAML = Self(.invalidYAML)
        /// A key the loader does not know; most often a typo, so the message
        /// suggests the closest known key.
        public static let unknownKey = Self(.unknownKey)
        /// A value of the wrong YAML type, such as a quoted number where an integer is expected.
        public static let wrongType = Self(.wrongType)
        /// A key that has no default (an app's `id`, `key` or `secret`, or `apps` itself) is absent.
        public static let missingValue = Self(.missingValue)
        /// A value of the right type that breaks a range or cross-field rule.
        public static let invalidValue = Self(.invalidValue)
        /// A `${NAME}` reference without a default names a variable that is not set.
        public static let unsetVariable = Self(.unsetVariable)

        public var description: String { self.base.rawValue }
    }

    /// The kind of mistake, for callers and tests that branch on it rather than on the text.
    public var code: Code
    /// The path the config was loaded from, as the caller spelled it.
    public var file: String
    /// 1-based line of the offending key or value; `nil` when the mistake has no
    /// single place, such as an unreadable file or a missing `apps` section.
    public var line: Int?
    /// Dotted path of the offending setting in YAML spelling (`apps[0].secret`,
    /// `limits.max_payload_bytes`); `nil` for file-level errors.
    public var keyPath: String?
    /// What is wrong and, where there is one obvious fix, what to do instead.
    public var message: String

    public init(code: Code, file: String, line: Int? = nil, keyPath: String? = nil, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line: key: message`, leaving out the parts that are unknown, in the
    /// format compilers use so editors and CI annotate the right line.
    public var description: String {
        var location = self.file
        if let line = self.line {
            location += ":\(line)"
        }
        if let keyPath = self.keyPath {
            return "\(location): \(keyPath): \(self.message)"
        }
        return "\(location): \(self.message)"
    }
}
