/// One scenario's results, printed twice: as an aligned block for people, and as one
/// line of JSON (keys in insertion order) that BENCHMARKS.md and scripts can quote.
struct Report {
    enum Value {
        case int(Int)
        /// Printed with the given number of decimals.
        case number(Double, decimals: Int)
        case string(String)
        case bool(Bool)
        case null
    }

    var scenario: String
    private(set) var fields: [(key: String, value: Value)] = []

    init(scenario: String) {
        self.scenario = scenario
    }

    mutating func add(_ key: String, _ value: Value) {
        self.fields.append((key, value))
    }

    mutating func add(_ key: String, _ value: Double?, decimals: Int) {
        self.add(key, value.map { .number($0, decimals: decimals) } ?? .null)
    }

    /// The human block followed by the JSON line.
    func rendered() -> String {
        let width = self.fields.map(\.key.count).max() ?? 0
        var lines = ["== \(self.scenario) =="]
        for (key, value) in self.fields {
            lines.append("  " + key + String(repeating: " ", count: width - key.count) + "  " + Self.text(value))
        }
        lines.append(self.json())
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var members = [#""scenario":\#(Self.quoted(self.scenario))"#]
        for (key, value) in self.fields {
            members.append("\(Self.quoted(key)):\(Self.jsonText(value))")
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    private static func text(_ value: Value) -> String {
        switch value {
        case .string(let string): return string
        case .null: return "n/a"
        default: return Self.jsonText(value)
        }
    }

    private static func jsonText(_ value: Value) -> String {
        switch value {
        case .int(let int): return String(int)
        case .number(let double, let decimals):
            guard double.isFinite else { return "null" }
            return Self.format(double, decimals: decimals)
        case .string(let string): return Self.quoted(string)
        case .bool(let bool): return bool ? "true" : "false"
        case .null: return "null"
        }
    }

    /// Fixed-point without Foundation's locale-dependent formatters.
    static func format(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        let digits = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    private static func quoted(_ string: String) -> String {
        var output = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
