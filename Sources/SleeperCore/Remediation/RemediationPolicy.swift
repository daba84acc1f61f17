import Foundation

/// `Controls/remediation.yaml`: how long each band gives to fix, and how long a risk of each band
/// may be accepted.
public struct RemediationPolicy: Sendable, Equatable {
    public var dueDays: [Band: Int]
    public var acceptanceMaxDays: [Band: Int]

    /// The end (UTC) of the day N days after `start`: an action due on a day is not overdue
    /// during that day.
    public func due(_ band: Band, from start: Date) -> Date {
        let day = start.addingTimeInterval(TimeInterval(dueDays[band] ?? 30) * 86400)
        return Date(timeIntervalSince1970: (day.timeIntervalSince1970 / 86400).rounded(.down) * 86400 + 86400 - 1)
    }

    public func latestAcceptance(_ band: Band, from start: Date) -> Date {
        start.addingTimeInterval(TimeInterval(acceptanceMaxDays[band] ?? 30) * 86400)
    }

    public static func read(_ data: Data, file: String = "remediation.yaml") -> Result<RemediationPolicy, InventoryProblems> {
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file)
        let r = DocumentCursor(value: root, path: "")
        func days(_ table: DocumentCursor) -> [Band: Int] {
            var out: [Band: Int] = [:]
            for band in Band.allCases {
                if let n = c.integer(table[band.rawValue], range: 1...3650) {
                    out[band] = n
                } else if table[band.rawValue].isMissing {
                    c.report("\(table.path).\(band.rawValue)", "is required (days, 1 to 3650)")
                }
            }
            for key in (table.fields ?? [:]).keys where Band(rawValue: key) == nil {
                c.report("\(table.path).\(key)", "is not a band (critical, high, medium, low)")
            }
            return out
        }
        let policy = RemediationPolicy(dueDays: days(r["due_days"]), acceptanceMaxDays: days(r["acceptance_max_days"]))
        return c.problems.isEmpty ? .success(policy) : .failure(InventoryProblems(c.problems))
    }
}
