import Foundation
import SleeperCore
import Testing

/// Hand-computed expectations for the scoring model, with the shipped weights.
@Suite("Scoring engine", .timeLimit(.minutes(2)))
struct ScoringEngineTests {
    static let weights: ScoringWeights = try! ScoringWeights.read(
        Data(contentsOf: ShippedCatalog.root.appending(path: "Controls/scoring.yaml"))
    ).get()
    static let engine = ScoringEngine(weights: weights)
    static let asOf = Timestamps.parse("2026-11-25")!
    static func daysAgo(_ n: Double) -> Date { asOf.addingTimeInterval(-n * 86400) }
    static let valid = ScoringInput.ControlState(validity: 1, evidenceID: 1)

    /// The design's worked example: a third-party fine-tune of a vendor model, used by an agent
    /// reading customer e-mail, holding a payments key in its environment.
    static func workedExample() -> ScoringInput {
        ScoringInput(
            models: [
                // vendor parent with L* = 0.10: only its missing signature counts
                .init(key: "vendor-base", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: false, serialization: .safetensors),
                .init(
                    key: "acme-ft", supplier: "acme-ai", thirdParty: true, lineageVerified: false, trainingDataDeclared: false,
                    hasDigest: true, signed: true, serialization: .safetensors, parents: [(0, .finetune)]),
            ],
            agents: [.init(key: "email-triage", inputTrust: .untrusted, models: [1])],
            credentials: [
                .init(
                    key: "payments-key", kind: .apiKey, owner: "payments", createdAt: daysAgo(400), lastRotatedAt: daysAgo(200),
                    lastUsedAt: daysAgo(1), holders: [(0, .runtimeEnv)], grants: [(0, .write)])
            ],
            resources: [.init(key: "payments-api", tier: .crownJewel)],
            asOf: asOf)
    }

    @Test("the worked example scores 69, critical")
    func workedExampleScore() throws {
        let result = try Self.engine.score(Self.workedExample())
        #expect(abs(result.models[0].lStar - 0.10) < 1e-12)
        #expect(abs(result.models[1].l0 - 0.58) < 1e-12)
        #expect(abs(result.models[1].lStar - 0.6094) < 1e-12)
        #expect(abs(result.agentA[0] - 0.6094) < 1e-12)
        let c = result.credentials[0]
        #expect(abs(c.p - 0.6094) < 1e-12)
        #expect(c.impact == 0.9)
        #expect(abs(c.hygiene - 1.25) < 1e-12)
        #expect(c.hygieneTerms.map(\.name) == ["not_rotated", "no_expiry"])
        #expect(c.score == 69)
        #expect(c.band == .critical)
        #expect(c.impactCount == 1)
        #expect(c.exposureCount == 1)  // acme-ft (0.6094 > 0.3); the parent's 0.10 does not count
        #expect(c.topModel == 1 && c.topAgent == 0 && c.topResource == 0)
    }

    @Test("with the model controls, human review and a brokered short-lived token it falls to about 2")
    func workedExampleWithControls() throws {
        var input = Self.workedExample()
        for control in ["SLP-SIGNATURE", "SLP-AIBOM", "SLP-DATA-SCREEN", "SLP-BACKDOOR-SCAN"] { input.models[1].controls[control] = Self.valid }
        input.agents[0].controls["SLP-HITL"] = Self.valid
        input.credentials[0].holders = [(0, .brokered)]
        input.credentials[0].ttlSeconds = 900
        let result = try Self.engine.score(input)
        // L = max(0.58 · 0.7 · 0.75 · 0.7 · 0.65, 0.058) = 0.58 · 0.238875 = 0.1385475
        // L* = 1 − 0.8614525 · 0.93 = 0.198849175
        #expect(abs(result.models[1].l - 0.1385475) < 1e-12)
        #expect(abs(result.models[1].lStar - 0.198849175) < 1e-12)
        // A = L* · (1 − 0.6); P = A · 0.3; H = 1 − 0.30; score = 100 · P · 0.9 · 0.7 = 1.503 → 2
        #expect(abs(result.credentials[0].p - 0.198849175 * 0.4 * 0.3) < 1e-12)
        #expect(abs(result.credentials[0].hygiene - 0.7) < 1e-12)
        #expect(result.credentials[0].score == 2)
        #expect(result.credentials[0].band == .low)
    }

    @Test("lineage passes risk down by relation: quantized 1.0, adapter 0.9, finetune 0.7, merge 0.7, distill 0.5")
    func lineageRelations() throws {
        let clean = ScoringInput.Model(
            key: "", thirdParty: false, lineageVerified: true, trainingDataDeclared: true, hasDigest: true,
            signed: true, serialization: .safetensors)
        var risky = clean
        risky.key = "root"
        risky.serialization = .pickle  // 0.15
        risky.signed = false  // 0.10 → L0 = 1 − 0.85 · 0.9 = 0.235
        var models = [risky]
        for (i, relation) in DerivationRelation.allCases.enumerated() {
            var child = clean
            child.key = relation.rawValue
            child.parents = [(0, relation)]
            models.append(child)
            _ = i
        }
        // A chain: quantized of the adapter of root.
        var chain = clean
        chain.key = "q-of-adapter"
        chain.parents = [(2, .quantized)]
        models.append(chain)
        let result = try Self.engine.score(ScoringInput(models: models, asOf: Self.asOf))
        let root = 0.235
        #expect(abs(result.models[0].lStar - root) < 1e-12)
        // unknown: a source named the parent but not how; counted as the relation that carries most.
        let expected: [DerivationRelation: Double] = [.finetune: 0.7, .adapter: 0.9, .merge: 0.7, .quantized: 1.0, .distill: 0.5, .unknown: 1.0]
        for (i, relation) in DerivationRelation.allCases.enumerated() {
            #expect(abs(result.models[i + 1].lStar - (expected[relation] ?? -1) * root) < 1e-12, "\(relation)")
        }
        #expect(abs(result.models[DerivationRelation.allCases.count + 1].lStar - 0.9 * root) < 1e-12)
    }

    @Test("datasets add risk by provenance")
    func datasets() throws {
        let model = ScoringInput.Model(
            key: "m", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true,
            serialization: .safetensors, datasets: [0, 1])
        let result = try Self.engine.score(ScoringInput(models: [model], datasets: [.init(key: "a", provenance: .unknown), .init(key: "b", provenance: .curatedScreened)], asOf: Self.asOf))
        #expect(abs(result.models[0].lStar - (1 - (1 - 0.9 * 0.3) * (1 - 0.9 * 0.05))) < 1e-12)
    }

    @Test("a failed backdoor scan forces L to at least 0.9, whatever else holds")
    func failedScan() throws {
        var input = Self.workedExample()
        input.models[0].controls["SLP-BACKDOOR-SCAN"] = .init(validity: 0, evidenceID: 7, failed: true)
        input.models[0].controls["SLP-SIGNATURE"] = Self.valid
        let result = try Self.engine.score(input)
        #expect(result.models[0].l == 0.9)
        #expect(result.models[0].failedScan)
        #expect(abs(result.models[1].lStar - (1 - 0.42 * (1 - 0.7 * 0.9))) < 1e-12)
    }

    @Test("evidence in its grace period counts in proportion; bound to an old digest it counts for nothing")
    func partialValidity() throws {
        var input = Self.workedExample()
        input.models[1].controls["SLP-BACKDOOR-SCAN"] = .init(validity: 0.5, evidenceID: 3)
        var result = try Self.engine.score(input)
        #expect(abs(result.models[1].l - 0.58 * (1 - 0.35 * 0.5)) < 1e-12)
        input.models[1].controls["SLP-BACKDOOR-SCAN"] = .init(validity: 0, evidenceID: 3)
        result = try Self.engine.score(input)
        #expect(abs(result.models[1].l - 0.58) < 1e-12)
    }

    @Test("a delegation cycle settles after the configured rounds")
    func delegationCycle() throws {
        let model = ScoringInput.Model(
            key: "m", thirdParty: false, lineageVerified: true, trainingDataDeclared: true, hasDigest: true,
            signed: true, serialization: .safetensors)
        var input = ScoringInput(
            models: [model],
            agents: [
                .init(key: "x", inputTrust: .untrusted, models: [0], delegators: [1]),
                .init(key: "y", inputTrust: .internal, models: [], delegators: [0]),
            ], asOf: Self.asOf)
        // Give the model L* = 0.5 through a dataset-free path: override with a failed-scan-free factor mix.
        input.models[0].serialization = .pickle; input.models[0].signed = false; input.models[0].trainingDataDeclared = false
        input.models[0].lineageVerified = false; input.models[0].thirdParty = true
        let lStar = try Self.engine.scoreModels(input)[0].lStar
        let (b, _) = Self.engine.scoreAgents(input, lStar: [0.5])
        // Rounds by hand: x 0.5 → 0.5 → 0.5625 → 0.5625; y 0 → 0.25 → 0.25 → 0.28125.
        #expect(abs(b[0] - 0.5625) < 1e-12)
        #expect(abs(b[1] - 0.28125) < 1e-12)
        #expect(lStar > 0.5)
    }

    @Test("a credential held by several agents combines them and pays the sharing term")
    func severalHolders() throws {
        var input = Self.workedExample()
        input.agents.append(.init(key: "second", inputTrust: .fixed, models: [1]))
        input.credentials[0].holders = [(0, .runtimeEnv), (1, .toolHeld)]
        let result = try Self.engine.score(input)
        let a2 = 0.3 * 0.6094
        #expect(abs(result.agentA[1] - a2) < 1e-12)
        #expect(abs(result.credentials[0].p - (1 - (1 - 0.6094) * (1 - a2 * 0.6))) < 1e-12)
        #expect(result.credentials[0].hygieneTerms.map(\.name).contains("shared"))
        #expect(abs(result.credentials[0].hygiene - 1.35) < 1e-12)
    }

    @Test("the same inventory scored as of two dates: rotation age decides")
    func asOfTwoDates() throws {
        var input = Self.workedExample()
        input.credentials[0].lastRotatedAt = Self.daysAgo(60)
        #expect(try Self.engine.score(input).credentials[0].score == 60)  // H = 1.10: 100 · 0.6094 · 0.9 · 1.10 = 60.3
        input.asOf = Self.asOf.addingTimeInterval(40 * 86400)  // now 100 days since rotation
        #expect(try Self.engine.score(input).credentials[0].score == 69)
    }

    @Test("a lineage cycle is an input error naming the models")
    func cycle() {
        let input = ScoringInput(models: [.init(key: "a", parents: [(1, .finetune)]), .init(key: "b", parents: [(0, .adapter)])], asOf: Self.asOf)
        #expect(throws: ScoringEngine.LineageCycle.self) { try Self.engine.score(input) }
    }

    @Test("scoring.yaml errors are located")
    func weightsErrors() {
        guard case .failure(let p) = ScoringWeights.read(Data("version: x\nmodel: {factors: {lineage_unverified: high}}\n".utf8)) else {
            Issue.record("accepted"); return
        }
        #expect(p.problems.contains { $0.path == "model.factors.lineage_unverified" && $0.message == "must be a number" })
        #expect(p.problems.contains { $0.path == "model.factors.third_party_not_allowed" })
    }
}
