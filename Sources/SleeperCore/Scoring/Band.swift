import Foundation

/// The exposure bands, worst first: the one declaration every listing, filter, chart and count
/// reads (their thresholds are the weights file's `bands`).
public enum Band: String, CaseIterable, Sendable, Comparable, Codable {
    case critical, high, medium, low

    /// Worse compares greater.
    public static func < (a: Band, b: Band) -> Bool { a.rank > b.rank }

    private var rank: Int {
        switch self {
        case .critical: 0
        case .high: 1
        case .medium: 2
        case .low: 3
        }
    }

    /// The band of a score: the worst whose threshold it reaches (`low` below every threshold).
    public static func of(_ score: Int, thresholds: (critical: Double, high: Double, medium: Double)) -> Band {
        let s = Double(score)
        if s >= thresholds.critical { return .critical }
        if s >= thresholds.high { return .high }
        if s >= thresholds.medium { return .medium }
        return .low
    }

    /// "critical, high, medium, low" (or joined otherwise), for help and refusals.
    public static func names(_ separator: String = ", ") -> String { allCases.map(\.rawValue).joined(separator: separator) }
}
