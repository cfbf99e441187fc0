public import Foundation
import Yams

/// Turns a YAML file into a validated ``Config``, or into one ``ConfigError`` that
/// names the file, line and key to fix.
///
/// Loading stops at the first mistake rather than collecting them all: later
/// checks often depend on earlier values (`max_payload_bytes` against
/// `max_event_bytes`), and one precise error is easier to act on than a cascade.
public enum ConfigLoader {
    /// Reads and loads the file at `path`. `path` is used as given in error
    /// messages, so pass it as the user typed it.
    ///
    /// - Parameter environment: the values `${NAME}` references resolve against;
    ///   tests pass their own instead of mutating the process environment.
    public static func load(
        contentsOf path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> Config {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let problem =
                FileManager.default.isReadableFile(atPath: path)
                ? "the file is not UTF-8 text" : "no such file, or it is not readable"
            throw ConfigError(code: .unreadableFile, file: path, message: problem)
        }
        return try self.load(yaml: yaml, file: path, environment: environment)
    }

    /// Loads config text that did not come from disk; `file` only labels errors.
    public static func load(yaml: String, file: String, environment: [String: String]) throws(ConfigError) -> Config {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw self.syntaxError(error, file: file)
        }
        let reader = try MappingReader(root, keyPath: "", line: nil, file: file, environment: environment)
        return try Config(reading: reader)
    }

    /// Keeps the line and libyaml's problem text but drops the rest of Yams'
    /// description, which quotes the offending source line and so could print a secret.
    private static func syntaxError(_ error: any Error, file: String) -> ConfigError {
        let (line, message): (Int?, String)
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            line = mark.line
            message = [context?.text, problem].compactMap(\.self).joined(separator: ", ")
        case .duplicatedKeysInMapping(let duplicates, let context):
            line = context.mark.line
            message = "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping"
        default:
            line = nil
            message = "not readable as YAML"
        }
        return ConfigError(code: .invalidYAML, file: file, line: line, message: message)
    }
}
