/// How many subjects have one kind of gap (`missing`, `failed`, …, `accepted`) in one control:
/// a line of the summary `sleeper gaps` gives before any listing.
public struct GapCount: Sendable, Equatable {
    public var control: String
    public var name: String
    public var status: EvidenceStatus
    public var subjects: Int
    /// The framework items the control would satisfy, as `framework:item`.
    public var items: [String]

    public init(control: String, name: String, status: EvidenceStatus, subjects: Int, items: [String]) {
        (self.control, self.name, self.status, self.subjects, self.items) = (control, name, status, subjects, items)
    }
}
