import Foundation
import SleeperCore
import Testing

/// The hygiene rules explain shows apply exactly the terms scoring applies, on random credentials.
@Suite("Hygiene rules", .timeLimit(.minutes(2)))
struct HygieneRuleTests {
    @Test("applied rules equal the scoring's hygiene terms on 2,000 random credentials; every rule says why")
    func rulesMatchScoring() {
        let engine = ScoringEngineTests.engine, asOf = ScoringEngineTests.asOf
        var rng = IncrementalScoringTests.SplitMix(state: 7)
        func maybeDate() -> Date? { Bool.random(using: &rng) ? ScoringEngineTests.daysAgo(Double.random(in: 0...400, using: &rng)) : nil }
        for i in 0..<2000 {
            let holders: [(agent: Int, delivery: Delivery)] = (0..<Int.random(in: 0...3, using: &rng)).map { _ in (0, Delivery.allCases.randomElement(using: &rng) ?? .runtimeEnv) }
            let c = ScoringInput.Credential(
                key: "c\(i)", kind: CredentialKind.allCases.randomElement(using: &rng) ?? .apiKey,
                owner: Bool.random(using: &rng) ? "team" : nil, createdAt: maybeDate(), lastRotatedAt: maybeDate(),
                expiresAt: Bool.random(using: &rng) ? asOf.addingTimeInterval(86400 * 30) : nil, lastUsedAt: maybeDate(),
                ttlSeconds: Bool.random(using: &rng) ? [600, 3600, 7200].randomElement(using: &rng) : nil,
                exposed: Int.random(in: 0..<10, using: &rng) == 0, holders: holders, grants: [])
            let rules = engine.hygieneRules(c, asOf: asOf)
            #expect(rules.filter(\.applied).map(\.name) == engine.hygieneTerms(c, asOf: asOf).map(\.name), "credential \(i)")
            #expect(rules.count == ScoringEngine.hygieneTermNames.count && rules.allSatisfy { !$0.why.isEmpty })
        }
    }

    @Test("a credential with a time-to-live skips rotation and expiry, and says so")
    func ttlSkips() {
        let c = ScoringInput.Credential(
            key: "t", kind: .oauthToken, owner: "o", createdAt: ScoringEngineTests.daysAgo(300), ttlSeconds: 900,
            holders: [(0, .brokered)], grants: [])
        let rules = ScoringEngineTests.engine.hygieneRules(c, asOf: ScoringEngineTests.asOf)
        #expect(rules.first { $0.name == "not_rotated" }?.why.hasPrefix("skipped: it has a time-to-live (900 s)") == true)
        #expect(rules.first { $0.name == "no_expiry" }?.applied == false)
        #expect(rules.first { $0.name == "short_lived" }?.applied == true)
    }

    @Test("ages are whole days: rotated 90 days and 12 hours ago is not more than 90 days; 91 days is")
    func wholeDays() {
        let engine = ScoringEngineTests.engine, asOf = ScoringEngineTests.asOf
        func notRotated(_ days: Double) -> Bool {
            let c = ScoringInput.Credential(
                key: "r", kind: .apiKey, owner: "o", createdAt: ScoringEngineTests.daysAgo(400),
                lastRotatedAt: ScoringEngineTests.daysAgo(days), expiresAt: asOf.addingTimeInterval(86400),
                lastUsedAt: ScoringEngineTests.daysAgo(days), holders: [(0, .brokered)], grants: [])
            let applied = engine.hygieneTerms(c, asOf: asOf).map(\.name)
            #expect(engine.hygieneRules(c, asOf: asOf).filter(\.applied).map(\.name) == applied)
            #expect(applied.contains("unused") == applied.contains("not_rotated"), "the unused term counts days the same way")
            return applied.contains("not_rotated")
        }
        #expect(!notRotated(90.5))
        #expect(!notRotated(90.999))
        #expect(notRotated(91))
        #expect(notRotated(91.5))
    }
}
