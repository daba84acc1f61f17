import Foundation

/// Where a person left a finding.
public enum FindingStatus: String, Sendable, CaseIterable, Codable {
    case open, acknowledged, falsePositive = "false-positive"
}

/// A runtime finding as Sleeper keeps it: what was seen outside the envelope, and what a person decided.
public struct RecordedFinding: Sendable, Equatable {
    public var id: Int
    public var agent: String
    public var kind: String
    public var target: String
    public var firstSeen: Date
    public var lastSeen: Date
    public var count: Int
    public var examples: [String]
    public var triggers: [RuntimeFindings.TriggerCandidate]
    public var status: FindingStatus
    public var reason: String?
    public var decidedBy: String?
    /// True when this import made it.
    public var new = false

    public init(
        id: Int, agent: String, kind: String, target: String, firstSeen: Date, lastSeen: Date, count: Int, examples: [String],
        triggers: [RuntimeFindings.TriggerCandidate], status: FindingStatus, reason: String?, decidedBy: String?, new: Bool
    ) {
        (self.id, self.agent, self.kind, self.target, self.firstSeen, self.lastSeen, self.count, self.examples) = (id, agent, kind, target, firstSeen, lastSeen, count, examples)
        (self.triggers, self.status, self.reason, self.decidedBy, self.new) = (triggers, status, reason, decidedBy, new)
    }
}
