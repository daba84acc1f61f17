import Foundation
import NIOConcurrencyHelpers
import SleeperCore
import SleeperStore

/// Refused requests (401 and 403), counted per source, caller and minute. The first refusal of a
/// source and caller in a minute is written to the audit log at once; the rest of that minute
/// become one row with their count when the minute is over (a flood of unauthenticated requests once added one
/// hash-chained row each: 21,349 rows in 20 s). A source refused more than `limit` times in a
/// minute is answered 429 before its token is even looked up, until the minute ends.
public final class RefusalGuard: Sendable {
    /// Unauthenticated refusals a source may have in one minute before it is answered 429 for
    /// the rest of it (`serve --refusals-per-minute`).
    public static let defaultLimit = 600
    let limit: Int

    struct Key: Hashable, Sendable { var source: String; var actor: String; var minute: Int }
    struct Tally: Sendable {
        var count = 0
        var unauthenticated = 0
        var written = 0
        var codes: [String: Int] = [:]
        var limited = 0
    }

    private let tallies = NIOLockedValueBox<[Key: Tally]>([:])
    private let now: @Sendable () -> Date

    init(limit: Int = RefusalGuard.defaultLimit, now: @escaping @Sendable () -> Date = { Date() }) {
        self.limit = limit
        self.now = now
    }

    var minute: Int { Int(now().timeIntervalSince1970 / 60) }

    /// Whether a request from `source` may go on to its token check; nil when it may, else the
    /// seconds until the source's minute ends (counted as a limited request).
    func admit(_ source: String) -> Int? {
        let minute = self.minute
        return tallies.withLockedValue { t in
            let keys = t.keys.filter { $0.source == source && $0.minute == minute }
            guard keys.reduce(0, { $0 + (t[$1]?.unauthenticated ?? 0) }) >= limit, let key = keys.first else { return nil }
            t[key]?.limited += 1
            return max(1, 60 - Int(now().timeIntervalSince1970) % 60)
        }
    }

    /// Counts a refusal; true when it is the first of its source's minute (written at once).
    func note(source: String, actor: String, code: String, unauthenticated: Bool) -> Bool {
        let key = Key(source: source, actor: actor, minute: minute)
        return tallies.withLockedValue { t in
            var tally = t[key] ?? Tally()
            tally.count += 1
            if unauthenticated { tally.unauthenticated += 1 }
            tally.codes[code, default: 0] += 1
            let first = tally.written == 0
            if first { tally.written = 1 }
            t[key] = tally
            return first
        }
    }

    /// The tallies of minutes that are over (all, with `everything`), removed; each becomes one
    /// audit row when it counted more than its first refusal.
    func take(everything: Bool = false) -> [(Key, Tally)] {
        let current = minute
        return tallies.withLockedValue { t in
            let done = t.filter { everything || $0.key.minute < current }
            for key in done.keys { t.removeValue(forKey: key) }
            return done.sorted { ($0.key.minute, $0.key.source) < ($1.key.minute, $1.key.source) }
        }
    }

    /// Writes the minutes that are over as one audit row each.
    func flush(_ db: Database, everything: Bool = false) async {
        for (key, tally) in take(everything: everything) where tally.count > tally.written || tally.limited > 0 {
            let codes = tally.codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            try? await AuditLog(db).record(
                actor: key.actor, action: "request.refused",
                target: "from \(key.source)",
                detail: [
                    "minute": Timestamps.format(Date(timeIntervalSince1970: TimeInterval(key.minute * 60))),
                    "refused": String(tally.count - tally.written), "codes": codes,
                    "rate_limited": String(tally.limited), "aggregated": "true",
                ])
        }
    }
}
