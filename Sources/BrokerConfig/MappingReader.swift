import Yams

/// Reads one YAML mapping of a config file with the checks every section needs:
/// unknown keys, YAML types and `${}` substitution, each failure a ``ConfigError``
/// carrying the file, the dotted key path and the line.
///
/// Reading from `Yams.Node` rather than decoding with `Codable` is what keeps the
/// line numbers: a decoder reports a coding path but not where in the file it was.
///
/// A key whose value is empty or `null` reads as absent, so `limits:` with every
/// entry commented out means "all defaults", as it looks.
struct MappingReader {
    /// Dotted path of this mapping (`limits`, `apps[0]`); empty for the document root.
    let keyPath: String
    /// Line of the mapping itself, for errors about a key that is missing from it.
    let line: Int?
    let file: String
    let environment: [String: String]
    private let entries: [(key: String, keyLine: Int?, value: Node)]

    /// Reads `node` as a mapping; `nil` or `null` reads as an empty one.
    init(_ node: Node?, keyPath: String, line: Int?, file: String, environment: [String: String]) throws(ConfigError) {
        self.keyPath = keyPath
        self.line = node?.mark?.line ?? line
        self.file = file
        self.environment = environment
        switch node {
        case nil:
            self.entries = []
        case .mapping(let mapping):
            var entries: [(key: String, keyLine: Int?, value: Node)] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw ConfigError(
                        code: .wrongType,
                        file: file,
                        line: key.mark?.line,
                        keyPath: keyPath.isEmpty ? nil : keyPath,
                        message: "keys must be plain names, found \(Self.describe(key))"
                    )
                }
                entries.append((scalar.string, key.mark?.line, value))
            }
            self.entries = entries
        case .some(let node) where Self.isNull(node):
            self.entries = []
        case .some(let node):
            throw ConfigError(
                code: .wrongType,
                file: file,
                line: node.mark?.line,
                keyPath: keyPath.isEmpty ? nil : keyPath,
                message: "expected a mapping of keys to values, found \(Self.describe(node))"
            )
        }
    }

    /// Rejects the first key, in file order, that is not in `known`, suggesting the
    /// closest known key when it looks like a typo and listing them all otherwise.
    func rejectUnknownKeys(known: [String]) throws(ConfigError) {
        guard let unknown = self.entries.first(where: { !known.contains($0.key) }) else {
            return
        }
        let message =
            if let suggestion = KeySuggestion.closest(to: unknown.key, among: known) {
                "unknown key; did you mean '\(suggestion)'?"
            } else {
                "unknown key; expected one of: \(known.joined(separator: ", "))"
            }
        throw self.error(.unknownKey, key: unknown.key, line: unknown.keyLine, message)
    }

    /// The dotted path of `key` in this mapping, as errors and the summary spell it.
    func path(_ key: String) -> String {
        self.keyPath.isEmpty ? key : "\(self.keyPath).\(key)"
    }

    /// Line of `key`'s value (or of the key when the value is empty); `nil` when the key is absent.
    func line(of key: String) -> Int? {
        guard let entry = self.entries.first(where: { $0.key == key }) else {
            return nil
        }
        return entry.value.mark?.line ?? entry.keyLine
    }

    /// An error about `key`, located at `line`, else at the key, else (for a missing
    /// key) at the mapping that should have held it.
    func error(_ code: ConfigError.Code, key: String, line: Int? = nil, _ message: String) -> ConfigError {
        ConfigError(
            code: code,
            file: self.file,
            line: line ?? self.line(of: key) ?? self.line,
            keyPath: self.path(key),
            message: message
        )
    }

    /// The value node of `key`, or `nil` when it is absent, empty or `null`.
    func node(_ key: String) -> Node? {
        guard let value = self.entries.first(where: { $0.key == key })?.value, !Self.isNull(value) else {
            return nil
        }
        return value
    }

    /// The nested mapping at `key`; an absent key reads as an empty mapping.
    func mapping(_ key: String) throws(ConfigError) -> MappingReader {
        try MappingReader(
            self.node(key),
            keyPath: self.path(key),
            line: self.line(of: key),
            file: self.file,
            environment: self.environment
        )
    }

    /// The list at `key`, or `nil` when absent.
    func sequence(_ key: String) throws(ConfigError) -> [Node]? {
        guard let node = self.node(key) else {
            return nil
        }
        guard case .sequence(let sequence) = node else {
            throw self.error(.wrongType, key: key, "expected a list, found \(Self.describe(node))")
        }
        return Array(sequence)
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let scalar = try self.scalar(key, expecting: "an integer") else {
            return nil
        }
        guard Node.scalar(scalar).tag == Tag(.int) else {
            throw self.wrongType(key, expected: "an integer", found: .scalar(scalar))
        }
        guard let value = Int.construct(from: scalar) else {
            throw self.error(.invalidValue, key: key, "integer out of range")
        }
        return value
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let scalar = try self.scalar(key, expecting: "true or false") else {
            return nil
        }
        guard Node.scalar(scalar).tag == Tag(.bool), let value = Bool.construct(from: scalar) else {
            throw self.wrongType(key, expected: "true or false", found: .scalar(scalar))
        }
        return value
    }

    /// The text at `key`. Substituted text is taken as is, whatever it looks like;
    /// a literal must be a YAML string, or an integer when `acceptingIntegers`, so
    /// `secret: 0123` (an octal number to YAML) is an error rather than a surprise.
    func string(_ key: String, acceptingIntegers: Bool = false) throws(ConfigError) -> String? {
        guard let value = self.node(key) else {
            return nil
        }
        return try self.string(from: value, key: key, line: nil, acceptingIntegers: acceptingIntegers)
    }

    /// The list of text at `key`, or `nil` when absent. Each entry follows the rules
    /// of ``string(_:acceptingIntegers:)``; an error about one names it by index
    /// (`allowed_origins[1]`) and line.
    ///
    /// - Parameter problem: why an entry is invalid, or `nil` when it is fine; checked
    ///   here because only here is the entry's line at hand.
    func strings(_ key: String, problem: (String) -> String? = { _ in nil }) throws(ConfigError) -> [String]? {
        guard let items = try self.sequence(key) else {
            return nil
        }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            let entryKey = "\(key)[\(index)]"
            let line = item.mark?.line
            let string = try self.string(from: item, key: entryKey, line: line)
            if let problem = problem(string) {
                throw self.error(.invalidValue, key: entryKey, line: line, problem)
            }
            strings.append(string)
        }
        return strings
    }

    /// `value` as text; `key` and `line` locate errors when `value` is a list entry,
    /// which ``line(of:)`` cannot find.
    private func string(
        from value: Node,
        key: String,
        line: Int?,
        acceptingIntegers: Bool = false
    ) throws(ConfigError) -> String {
        if case .scalar(let scalar) = value, let expanded = try self.expand(key, scalar, line: line) {
            return expanded.string
        }
        let accepted = acceptingIntegers ? [Tag(.str), Tag(.int)] : [Tag(.str)]
        guard case .scalar(let scalar) = value, accepted.contains(value.tag) else {
            throw self.wrongType(key, line: line, expected: "a string", found: value)
        }
        return scalar.string
    }

    /// The scalar at `key` after substitution, or `nil` when absent. A substituted
    /// scalar is re-typed from its new text, as if that text had been written plain,
    /// so `port: ${PORT:-6001}` reads as an integer.
    private func scalar(_ key: String, expecting expected: String) throws(ConfigError) -> Node.Scalar? {
        guard let value = self.node(key) else {
            return nil
        }
        guard case .scalar(let scalar) = value else {
            throw self.wrongType(key, expected: expected, found: value)
        }
        return try self.expand(key, scalar) ?? scalar
    }

    /// `scalar` with `${}` references expanded and an implicit tag, or `nil` when it has none.
    private func expand(_ key: String, _ scalar: Node.Scalar, line: Int? = nil) throws(ConfigError) -> Node.Scalar? {
        let expanded: String?
        do throws(EnvironmentSubstitution.Failure) {
            expanded = try EnvironmentSubstitution.expand(scalar.string, environment: self.environment)
        } catch {
            switch error {
            case .unsetVariable(let name):
                throw self.error(.unsetVariable, key: key, line: line, "environment variable \(name) is not set")
            case .malformedReference:
                throw self.error(
                    .invalidValue,
                    key: key,
                    line: line,
                    "malformed environment reference; write ${NAME} or ${NAME:-default}"
                )
            }
        }
        return expanded.map { Node.Scalar($0, .implicit, .plain, scalar.mark) }
    }

    private func wrongType(_ key: String, line: Int? = nil, expected: String, found: Node) -> ConfigError {
        self.error(.wrongType, key: key, line: line, "expected \(expected), found \(Self.describe(found))")
    }

    private static func isNull(_ node: Node) -> Bool {
        if case .scalar = node {
            return node.tag == Tag(.null)
        }
        return false
    }

    /// Names a node's YAML type for "expected …, found …", never its value, which may be a secret.
    private static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar:
            switch node.tag {
            case Tag(.int): "an integer"
            case Tag(.float): "a decimal number"
            case Tag(.bool): "a boolean"
            case Tag(.null): "an empty value"
            case Tag(.str): "a string"
            default: "a value tagged \(node.tag)"
            }
        }
    }
}
