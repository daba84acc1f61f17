/// The name someone most likely meant, for errors that say "no such X; did you mean Y?".
public enum NearestName {
    /// An exact match ignoring case, when exactly one candidate matches that way.
    public static func caseInsensitive(_ text: String, among candidates: [String]) -> String? {
        let matches = candidates.filter { $0.lowercased() == text.lowercased() }
        return matches.count == 1 ? matches[0] : nil
    }

    /// The closest candidate: one that starts with the text or contains it (`payments` →
    /// `payments-platform`), else the fewest edits within a third of the length (at least two).
    public static func suggestion(for text: String, among candidates: [String]) -> String? {
        let lower = text.lowercased()
        guard !lower.isEmpty else { return nil }
        if let same = caseInsensitive(text, among: candidates) { return same }
        let containing = candidates.filter { $0.lowercased().hasPrefix(lower) || $0.lowercased().contains(lower) }
        if let best = containing.min(by: { ($0.count, $0) < ($1.count, $1) }) { return best }
        let limit = max(2, lower.count / 3)
        let scored = candidates.map { ($0, FieldNames.distance(lower, $0.lowercased())) }.filter { $0.1 <= limit }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// "; did you mean 'x'?" or nothing.
    public static func hint(for text: String, among candidates: [String]) -> String {
        suggestion(for: text, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
