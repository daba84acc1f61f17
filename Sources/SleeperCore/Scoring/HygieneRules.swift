import Foundation

/// Every hygiene term of a credential, applied or skipped, and why: what `explain` shows, so that
/// a reader can check each rule against the credential's own fields. `hygieneTerms` is the fast
/// form the scoring uses; a test holds the two to the same answer.
public struct HygieneRule: Sendable, Equatable {
    public var name: String
    public var applied: Bool
    public var value: Double
    public var why: String
}

extension ScoringEngine {
    public func hygieneRules(_ c: ScoringInput.Credential, asOf: Date) -> [HygieneRule] {
        let h = weights.hygiene
        func days(since date: Date?) -> Double? { date.map { Self.wholeDays(from: $0, to: asOf) } }
        func d(_ x: Double) -> String { String(Int(x.rounded(.down))) }
        var out: [HygieneRule] = []
        func rule(_ name: String, _ applied: Bool, _ value: Double, _ why: String) { out.append(HygieneRule(name: name, applied: applied, value: value, why: why)) }

        if let ttl = c.ttlSeconds {
            rule("not_rotated", false, h.notRotated, "skipped: it has a time-to-live (\(ttl) s) and is re-issued, not rotated")
        } else if let age = days(since: c.lastRotatedAt ?? c.createdAt) {
            let since = c.lastRotatedAt == nil ? "created (never rotated)" : "last rotated"
            rule("not_rotated", age > h.notRotatedDays, h.notRotated, "\(since) \(d(age)) days ago; the limit is \(d(h.notRotatedDays))")
        } else {
            rule("not_rotated", true, h.notRotated, "no rotation or creation date: counted as not rotated")
        }
        if c.ttlSeconds != nil {
            rule("no_expiry", false, h.noExpiry, "skipped: its time-to-live ends it")
        } else if let expires = c.expiresAt {
            rule("no_expiry", false, h.noExpiry, "expires \(Timestamps.formatDay(expires))")
        } else {
            rule("no_expiry", true, h.noExpiry, "no expires_at and no time-to-live")
        }
        if let unused = days(since: c.lastUsedAt) {
            rule("unused", unused > h.unusedDays, h.unused, "last used \(d(unused)) days ago; the limit is \(d(h.unusedDays))")
        } else {
            rule("unused", false, h.unused, "skipped: last use unknown")
        }
        rule("no_owner", c.owner == nil, h.noOwner, c.owner.map { "owned by \($0)" } ?? "no owner")
        rule("shared", c.holders.count > 1, h.shared, "held by \(c.holders.count) agent(s); the term needs more than one")
        rule("exposed", c.exposed, h.exposed, c.exposed ? "reported exposed" : "not reported exposed")
        let shortLived = (c.ttlSeconds ?? Int.max) <= h.shortLivedMaxTTL
        rule(
            "short_lived", shortLived, h.shortLived,
            c.ttlSeconds.map { "time-to-live \($0) s; the term needs \(h.shortLivedMaxTTL) s or less" } ?? "no time-to-live")
        let allFederated = !c.holders.isEmpty && c.holders.allSatisfy { $0.delivery == .federated }
        let federated = c.kind == .workloadIdentity || allFederated
        rule(
            "federated", federated, h.federated,
            c.kind == .workloadIdentity
                ? "a workload identity"
                : allFederated ? "every holder gets it federated" : "not a workload identity, and not every holder gets it federated")
        return out
    }
}
