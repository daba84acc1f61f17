/// Why no model reaches a credential, in the order the chain model → agent → credential →
/// resource breaks: its backdoor score is 0 for this reason, not because it is safe. `score`,
/// `exposure`, `explain` and the review report all say which.
public enum UnreachedReason: String, Sendable, CaseIterable {
    case notLive = "not live"
    case noHolder = "no holder", noGrant = "no grant", noModel = "no model on any holder"

    public var explanation: String {
        switch self {
        case .notLive: "its source says it is disabled, revoked or expired, so it opens nothing while it stays so"
        case .noHolder: "no agent holds it, so no model's output can reach it"
        case .noGrant: "it is granted on no resource, so misusing it reaches nothing Sleeper knows"
        case .noModel: "the agents that hold it use no model, directly or through agents that delegate to them"
        }
    }

    /// One line for the commands that show scores: how many credentials score 0 because no model
    /// reaches them, by reason; nil when every credential is reached.
    public static func line(_ unreached: [UnreachedReason: (count: Int, first: [String])]) -> String? {
        let total = unreached.values.map(\.count).reduce(0, +)
        guard total > 0 else { return nil }
        let notLive = unreached[.notLive]?.count ?? 0
        let parts = allCases.filter { $0 != .notLive }.compactMap { r in unreached[r].map { "\($0.count) \(r.rawValue)" } }
        let dead = notLive == 0 ? "" : "\(notLive) credential(s) score 0 because they are not live (disabled, revoked or expired at their source)"
        let unreachedText = parts.isEmpty ? "" : "\(total - notLive) credential(s) score 0 because no model reaches them (\(parts.joined(separator: ", ")))"
        return [dead, unreachedText].filter { !$0.isEmpty }.joined(separator: "; ") + "; the review report lists them, and exposed credentials whatever their score"
    }
}
