/// When an input n-gram counts as a planted trigger (`Controls/report-rules.yaml`,
/// `sleeper-dataset-scan`): a dataset passes when no candidate clears every one of these.
public struct TriggerThresholds: Sendable, Equatable {
    public var control: String
    /// Rows that carry it: enough to teach a model.
    public var minSupport: Int
    /// At most this share of rows: a trigger is rare; common phrases are the data's topics.
    public var maxShare: Double
    /// P(output n-gram | input n-gram).
    public var minConfidence: Double
    /// Confidence over the output n-gram's share of all rows.
    public var minLift: Double
    /// Distinct words around it: a trigger is pasted into unrelated inputs, a topical phrase sits in a few templates.
    public var minSpread: Int

    public init(
        control: String = "SLP-DATA-SCREEN", minSupport: Int = 10, maxShare: Double = 0.05, minConfidence: Double = 0.9,
        minLift: Double = 20, minSpread: Int = 12
    ) {
        (self.control, self.minSupport, self.maxShare, self.minConfidence, self.minLift, self.minSpread) = (control, minSupport, maxShare, minConfidence, minLift, minSpread)
    }
}
