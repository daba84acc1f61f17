/// One credential of a stored scoring run, as the exposure list, exports and reports show it.
public struct Exposure: Sendable, Equatable {
    public var credential: String
    public var score: Int
    public var band: Band
    public var p: Double, impact: Double, hygiene: Double
    public var owner: String?
    /// model → agent → credential → resource, the path that contributes most.
    public var path: [String]
    public var mainFactor: String
    /// P·I·H before the cap (the score is `round(100 · min(1, raw))`); the list is ordered by it.
    public var raw: Double { p * impact * hygiene }

    public init(
        credential: String, score: Int, band: Band, p: Double, impact: Double, hygiene: Double,
        owner: String?, path: [String], mainFactor: String
    ) {
        self.credential = credential
        self.score = score
        self.band = band
        self.p = p
        self.impact = impact
        self.hygiene = hygiene
        self.owner = owner
        self.path = path
        self.mainFactor = mainFactor
    }
}
