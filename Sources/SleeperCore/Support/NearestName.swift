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
        let scored = candidates.map { ($0, distance(lower, $0.lowercased())) }.filter { $0.1 <= limit }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// "unknown framework 'x'; the frameworks are …", wherever a framework id is looked up.
    public static func unknownFramework(_ id: String, known: [String]) -> String {
        "unknown framework '\(id)'; the frameworks are \(known.joined(separator: ", "))"
    }

    /// "; did you mean 'x'?" or nothing.
    public static func hint(for text: String, among candidates: [String]) -> String {
        suggestion(for: text, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    /// neighbouring characters each cost one.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }
}
