/// Finds the known key an unknown one was probably meant to be, so a typo such as
/// `max_payload_byte` is answered with "did you mean `max_payload_bytes`?".
enum KeySuggestion {
    /// Edits beyond this are more likely a different key than a typo, and a wrong
    /// suggestion costs more than none.
    static let maximumDistance = 2

    /// The closest of `candidates` within ``maximumDistance`` edits; the earliest wins a tie.
    static func closest(to key: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = self.editDistance(Array(key.unicodeScalars), Array(candidate.unicodeScalars))
            if distance <= self.maximumDistance, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance with one rolling row; keys are short, so the quadratic
    /// time never matters.
    private static func editDistance(_ lhs: [Unicode.Scalar], _ rhs: [Unicode.Scalar]) -> Int {
        var previous = Array(0 ... rhs.count)
        for (i, left) in lhs.enumerated() {
            var current = [i + 1]
            for (j, right) in rhs.enumerated() {
                let substitution = previous[j] + (left == right ? 0 : 1)
                current.append(min(substitution, previous[j + 1] + 1, current[j] + 1))
            }
            previous = current
        }
        return previous[rhs.count]
    }
}
