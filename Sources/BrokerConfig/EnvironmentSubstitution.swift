/// Expands `${NAME}` and `${NAME:-default}` inside one scalar's text, the subset of
/// shell parameter expansion that container platforms and `.env` files share.
///
/// Substitution runs per scalar after YAML parsing rather than on the raw text, so
/// a value containing newlines or `:` cannot change the document's structure and
/// every error still points at the line the user wrote. There is no escape for a
/// literal `${`; no setting needs one.
enum EnvironmentSubstitution {
    /// Why a scalar could not be expanded. Carries variable names only, never values.
    enum Failure: Error, Equatable {
        /// `${NAME}` without a default, and `NAME` is not in the environment.
        case unsetVariable(name: String)
        /// A `${` with no closing `}`, or a reference whose name is not a valid variable name.
        case malformedReference
    }

    /// Returns `nil` when `text` holds no `${`, so the caller can keep the scalar's
    /// own YAML type; otherwise the expanded text.
    ///
    /// As in the shell, `:-` also applies the default when the variable is set but empty.
    static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String? {
        guard text.contains("${") else {
            return nil
        }
        var result = ""
        var rest = text[...]
        while let open = rest.firstRange(of: "${") {
            result += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else {
                throw .malformedReference
            }
            result += try self.value(of: afterOpen[..<close], environment: environment)
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        return result + rest
    }

    private static func value(of reference: Substring, environment: [String: String]) throws(Failure) -> String {
        let name: Substring
        let fallback: Substring?
        if let separator = reference.firstRange(of: ":-") {
            name = reference[..<separator.lowerBound]
            fallback = reference[separator.upperBound...]
        } else {
            name = reference
            fallback = nil
        }
        guard self.isVariableName(name) else {
            throw .malformedReference
        }
        if let fallback {
            let value = environment[String(name)] ?? ""
            return value.isEmpty ? String(fallback) : value
        }
        guard let value = environment[String(name)] else {
            throw .unsetVariable(name: String(name))
        }
        return value
    }

    /// POSIX names: ASCII letters, digits and `_`, not starting with a digit.
    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, !("0" ... "9").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { scalar in
            ("a" ... "z").contains(scalar) || ("A" ... "Z").contains(scalar) || ("0" ... "9").contains(scalar)
                || scalar == "_"
        }
    }
}
