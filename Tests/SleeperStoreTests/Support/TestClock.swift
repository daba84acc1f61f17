import Foundation
import SleeperCore

/// The one clock of the tests. Nothing depends on the day they run: "now" is pinned to midnight
/// UTC two days after the run starts (later than anything the database records meanwhile, since
/// the ledger's recorded time is the server's real clock), and fixtures written for a reference
/// day are shifted by whole days to keep every age exactly as written.
enum TestClock {
    static let day: TimeInterval = 86400

    /// Midnight UTC, two days after today.
    static let now: Date = {
        let today = (Date().timeIntervalSince1970 / day).rounded(.down) * day
        return Date(timeIntervalSince1970: today + 2 * day)
    }()

    /// Pins the clock of a `sleeper` process (`SLEEPER_NOW`).
    static func environment(_ date: Date = now) -> [String: String] { [SleeperClock.variable: Timestamps.format(date)] }

    /// `text` with every `YYYY-MM-DD` moved by the whole days from `reference` to `to`, so a
    /// fixture written to be read on `reference` reads the same on `to`.
    static func shifted(_ text: String, from reference: String, to date: Date = now) -> String {
        guard let ref = Timestamps.day(reference) else { return text }
        let days = Int((date.timeIntervalSince(ref) / day).rounded(.down))
        return text.replacing(/\d{4}-\d{2}-\d{2}/) { match in
            guard let d = Timestamps.day(String(match.output)) else { return String(match.output) }
            return Timestamps.formatDay(d.addingTimeInterval(TimeInterval(days) * day))
        }
    }

    /// A day relative to the real today, as `YYYY-MM-DD`.
    static func daysFromToday(_ n: Int) -> String { Timestamps.formatDay(Date().addingTimeInterval(TimeInterval(n) * day)) }
}
