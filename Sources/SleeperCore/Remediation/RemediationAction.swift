import Foundation

/// What to do about one subject in a recall's blast radius.
public enum ActionKind: String, CaseIterable, Sendable {
    /// A credential an affected agent holds: rotate it, or revoke it if it is no longer needed.
    case rotateOrRevoke = "rotate-or-revoke"
    /// An agent that uses, or is reached from, the recalled subject: stop it or point it at a model that is not.
    case disableOrRepoint = "disable-or-repoint"
    /// A model recalled, derived from a recalled one, or trained on a recalled dataset.
    case replace
}

/// Where an action stands. `accepted` is not stored: an open action shows as accepted while an
/// acceptance of it stands, and returns to open when the acceptance lapses.
public enum ActionStatus: String, CaseIterable, Sendable {
    case open, inProgress = "in-progress", done, accepted
    /// Left open when its recall was released: closed, not done (the release's reason says why).
    case cancelled

    /// Done or cancelled: nothing more is asked of anyone.
    public var isClosed: Bool { self == .done || self == .cancelled }
}

/// One action of the plan a recall makes, before it is stored.
public struct PlannedAction: Sendable, Equatable {
    public var subject: Subject
    public var action: ActionKind
    public var owner: String?
    public var band: Band
    public var score: Int?
    public var due: Date
    public var digest: String?
}

/// A stored action, as lists and exports show it.
public struct RemediationAction: Sendable, Equatable {
    public var id: Int
    public var recall: Int
    public var subject: Subject
    public var action: ActionKind
    public var owner: String?
    public var band: Band
    public var score: Int?
    public var due: Date
    public var status: ActionStatus
    public var created: Date
    public var closed: Date?
    public var closedBecause: String?
    /// The acceptance that stands for it, if any.
    public var acceptedUntil: Date?
    public var acceptedBy: String?

    public init(
        id: Int, recall: Int, subject: Subject, action: ActionKind, owner: String?, band: Band, score: Int?, due: Date,
        status: ActionStatus, created: Date, closed: Date?, closedBecause: String?, acceptedUntil: Date?, acceptedBy: String?
    ) {
        self.id = id
        self.recall = recall
        self.subject = subject
        self.action = action
        self.owner = owner
        self.band = band
        self.score = score
        self.due = due
        self.status = status
        self.created = created
        self.closed = closed
        self.closedBecause = closedBecause
        self.acceptedUntil = acceptedUntil
        self.acceptedBy = acceptedBy
    }

    public func overdue(at now: Date) -> Bool { (status == .open || status == .inProgress) && due < now }
}

/// What a recall reaches, as the store found it: the inputs of the plan.
public struct RecallReach: Sendable {
    public struct Entity: Sendable {
        public var key: String
        public var owner: String?
        public var digest: String?
        public init(key: String, owner: String?, digest: String? = nil) {
            self.key = key
            self.owner = owner
            self.digest = digest
        }
    }
    public struct Credential: Sendable {
        public var key: String
        public var owner: String?
        public var score: Int
        public var band: Band
        public var raw: Double
        public init(key: String, owner: String?, score: Int, band: Band, raw: Double) {
            self.key = key
            self.owner = owner
            self.score = score
            self.band = band
            self.raw = raw
        }
    }
    public var models: [Entity]
    public var agents: [Entity]
    public var credentials: [Credential]
    public init(models: [Entity], agents: [Entity], credentials: [Credential]) {
        self.models = models
        self.agents = agents
        self.credentials = credentials
    }
}

public enum RecallPlan {
    /// The actions of a recall, in the order to take them: each credential to rotate or revoke,
    /// riskiest first (as scored with the recall counted); each agent to disable or re-point;
    /// each model to replace. Agents and models take the worst band of the credentials the recall
    /// reaches (low when it reaches none); each action is due by the policy's days for its band.
    public static func actions(_ reach: RecallReach, policy: RemediationPolicy, from start: Date) -> [PlannedAction] {
        let worst = reach.credentials.map(\.band).max() ?? .low
        let credentials = reach.credentials.sorted { ($0.raw, $1.key) > ($1.raw, $0.key) }
        return credentials.map {
            PlannedAction(
                subject: Subject(kind: .credential, key: $0.key), action: .rotateOrRevoke, owner: $0.owner, band: $0.band,
                score: $0.score, due: policy.due($0.band, from: start), digest: nil)
        }
            + reach.agents.sorted { $0.key < $1.key }.map {
                PlannedAction(
                    subject: Subject(kind: .agent, key: $0.key), action: .disableOrRepoint, owner: $0.owner, band: worst,
                    score: nil, due: policy.due(worst, from: start), digest: nil)
            }
            + reach.models.sorted { $0.key < $1.key }.map {
                PlannedAction(
                    subject: Subject(kind: .model, key: $0.key), action: .replace, owner: $0.owner, band: worst,
                    score: nil, due: policy.due(worst, from: start), digest: $0.digest)
            }
    }
}

/// A decision to live with a risk until a date: a control's gap on a subject, or an action.
public struct AcceptedRisk: Sendable, Equatable {
    public var id: Int
    public var subject: Subject
    public var control: String?
    public var action: Int?
    public var band: Band
    public var until: Date
    public var by: String
    public var reason: String
    public var created: Date
    /// What is accepted, in words: the control, or `action #ID`.
    public var target: String { control ?? "action #\(action ?? 0)" }

    public init(id: Int, subject: Subject, control: String?, action: Int?, band: Band, until: Date, by: String, reason: String, created: Date) {
        self.id = id
        self.subject = subject
        self.control = control
        self.action = action
        self.band = band
        self.until = until
        self.by = by
        self.reason = reason
        self.created = created
    }
}
