/// One thing wrong with an input file, located precisely enough to fix it without searching.
public struct InventoryProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Path inside the document, e.g. `agents[3].holds[0].credential`; empty for the whole file.
    public var path: String
    public var message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)"
    }
}

/// All the problems found in one run, so that a user fixes them in one pass.
public struct InventoryProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [InventoryProblem]
    public init(_ problems: [InventoryProblem]) { self.problems = problems }
    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return "\(problems.count) \(noun); nothing was written:\n" + problems.map { "  " + $0.description }.joined(separator: "\n")
    }
}
