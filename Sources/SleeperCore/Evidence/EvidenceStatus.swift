/// Whether valid evidence of a control stands for a subject: `valid`, or one of the gaps in the
/// order `gaps` lists them (a gap whose acceptance stands shows as `accepted`). The status query
/// writes these names; rows decode straight into this type.
public enum EvidenceStatus: String, CaseIterable, Sendable, Codable {
    case missing, failed
    case expiredInGrace = "expired-in-grace"
    case expired
    case staleDigest = "stale-digest"
    case accepted, valid

    /// The gaps, in the order listings and summaries show them.
    public static let gaps: [EvidenceStatus] = allCases.filter { $0 != .valid }

    public var isExpired: Bool { self == .expiredInGrace || self == .expired }
}
