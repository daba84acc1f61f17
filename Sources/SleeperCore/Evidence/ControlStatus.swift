import Foundation

/// Whether valid evidence of one control stood for one subject at a given time. Gaps are the
/// statuses other than `valid`; exports and reports read the full set.
public struct ControlStatus: Sendable, Equatable {
    public var subject: Subject
    public var owner: String?
    public var control: String
    public var controlName: String
    public var status: EvidenceStatus
    public var evidenceID: Int?
    public var expiresAt: Date?
    /// Framework items the control would satisfy, as `framework:item`.
    public var items: [String]
    /// A gap accepted until a date by an approver: shown with status `accepted` until it lapses.
    public var acceptedUntil: Date?
    public var acceptedBy: String?
    /// For a failed status whose record is about some of a model's files: those files (a fail
    /// on a file stands until a later record covers it).
    public var failedFiles: [String] = []

    public var isValid: Bool { status == .valid }

    public init(
        subject: Subject, owner: String?, control: String, controlName: String, status: EvidenceStatus,
        evidenceID: Int?, expiresAt: Date?, items: [String]
    ) {
        self.subject = subject
        self.owner = owner
        self.control = control
        self.controlName = controlName
        self.status = status
        self.evidenceID = evidenceID
        self.expiresAt = expiresAt
        self.items = items
    }
}
