/// One thing wrong with an input file, located precisely enough to fix it without searching.
public struct InventoryProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Path inside the document, e.g. `agents[3].holds[0].credential`; empty for the whole file.
    public var path: String
    public var message: String

    /// No problem repeats a value judged secret, not even inside a key made from a source's
    /// value: the message and the path are redacted as the problem is made.
    public init(file: String, path: String, message: String) {
        self.file = SecretScanner.redacted(file)
        self.path = SecretScanner.redacted(path)
        self.message = SecretScanner.redacted(message)
    }

    public var description: String {
        path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)"
    }
}

/// All the problems found in one run, so that a user fixes them in one pass.
public struct InventoryProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [InventoryProblem]
    public init(_ problems: [InventoryProblem]) { self.problems = problems }
    /// How many problems are listed one by one; the rest are counted by kind.
    public static let listed = 100

    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        var out = "\(problems.count) \(noun); nothing was written:\n" + problems.prefix(Self.listed).map { "  " + $0.description }.joined(separator: "\n")
        let rest = problems.dropFirst(Self.listed)
        guard !rest.isEmpty else { return out }
        out += "\n  … and \(rest.count) more:"
        for (kind, count) in Self.kinds(of: rest) { out += "\n  \(count) × \(kind)" }
        return out
    }

    /// Problems grouped by where and what, without the indices and quoted values that make each
    /// one unique: `credentials[].kind: '…' is not one of: …`. Most frequent first.
    public static func kinds(of problems: some Sequence<InventoryProblem>) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for p in problems {
            let path = p.path.replacing(/\[\d+\]/, with: "[]")
            let message = p.message.replacing(/'[^']*'/, with: "'…'")
            counts["\(p.file): \(path.isEmpty ? "" : path + ": ")\(message)", default: 0] += 1
        }
        return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
    }
}
