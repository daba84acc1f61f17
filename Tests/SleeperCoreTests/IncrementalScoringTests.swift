import Foundation
import SleeperCore
import Testing

/// Recomputing only what lies downstream of a change must give exactly what a full run gives.
@Suite("Incremental scoring", .timeLimit(.minutes(2)))
struct IncrementalScoringTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let engine = ScoringEngineTests.engine

    /// A random estate: lineage only from lower to higher index, so it stays acyclic.
    static func estate(_ rng: inout SplitMix) -> ScoringInput {
        let modelCount = 40, agentCount = 60, credentialCount = 120, resourceCount = 20
        var input = ScoringInput(asOf: ScoringEngineTests.asOf)
        input.datasets = (0..<5).map { .init(key: "d\($0)", provenance: DatasetProvenance.allCases.randomElement(using: &rng)!) }
        input.resources = (0..<resourceCount).map { .init(key: "r\($0)", tier: ResourceTier.allCases.randomElement(using: &rng)!) }
        for i in 0..<modelCount {
            var m = ScoringInput.Model(
                key: "m\(i)", supplier: ["internal", "acme"].randomElement(using: &rng), thirdParty: Bool.random(using: &rng),
                lineageVerified: Bool.random(using: &rng), trainingDataDeclared: Bool.random(using: &rng),
                hasDigest: Bool.random(using: &rng), signed: Bool.random(using: &rng),
                serialization: [Serialization.safetensors, .pickle, .gguf].randomElement(using: &rng)!)
            if i > 0 && Bool.random(using: &rng) { m.parents = [(Int.random(in: 0..<i, using: &rng), DerivationRelation.allCases.randomElement(using: &rng)!)] }
            if Bool.random(using: &rng) { m.datasets = [Int.random(in: 0..<5, using: &rng)] }
            input.models.append(m)
        }
        for i in 0..<agentCount {
            var a = ScoringInput.Agent(
                key: "a\(i)", inputTrust: InputTrust.allCases.randomElement(using: &rng)!,
                models: [Int.random(in: 0..<modelCount, using: &rng)])
            if Int.random(in: 0..<4, using: &rng) == 0 { a.delegators = [Int.random(in: 0..<agentCount, using: &rng)].filter { $0 != i } }
            input.agents.append(a)
        }
        for i in 0..<credentialCount {
            input.credentials.append(
                .init(
                    key: "c\(i)", kind: .apiKey, owner: Bool.random(using: &rng) ? "team" : nil,
                    lastRotatedAt: ScoringEngineTests.daysAgo(Double(Int.random(in: 0..<400, using: &rng))),
                    lastUsedAt: ScoringEngineTests.daysAgo(Double(Int.random(in: 0..<200, using: &rng))),
                    holders: [(Int.random(in: 0..<agentCount, using: &rng), Delivery.allCases.randomElement(using: &rng)!)],
                    grants: [(Int.random(in: 0..<resourceCount, using: &rng), GrantAction.allCases.randomElement(using: &rng)!)]))
        }
        return input
    }

    /// Applies one random change of the kinds an import or a piece of evidence makes, and says what changed.
    static func mutate(_ input: inout ScoringInput, _ rng: inout SplitMix) -> ScoringEngine.Change {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0:
            let m = Int.random(in: 0..<input.models.count, using: &rng)
            input.models[m].signed.toggle()
            return .init(models: [m])
        case 1:
            let m = Int.random(in: 0..<input.models.count, using: &rng)
            let control = ["SLP-SIGNATURE", "SLP-AIBOM", "SLP-DATA-SCREEN", "SLP-BACKDOOR-SCAN"].randomElement(using: &rng)!
            input.models[m].controls[control] = .init(
                validity: [1, 0.5, 0].randomElement(using: &rng)!, evidenceID: 1,
                failed: control == "SLP-BACKDOOR-SCAN" && Bool.random(using: &rng))
            return .init(models: [m])
        case 2:
            let m = Int.random(in: 1..<input.models.count, using: &rng)
            input.models[m].parents.append((Int.random(in: 0..<m, using: &rng), .adapter))
            return .init(models: [m])
        case 3:
            let a = Int.random(in: 0..<input.agents.count, using: &rng)
            input.agents[a].controls["SLP-HITL"] = .init(validity: 1, evidenceID: 2)
            return .init(agents: [a])
        case 4:
            let a = Int.random(in: 0..<input.agents.count, using: &rng), u = Int.random(in: 0..<input.agents.count, using: &rng)
            if a != u { input.agents[a].delegators.append(u) }
            return .init(agents: [a])
        case 5:
            let a = Int.random(in: 0..<input.agents.count, using: &rng)
            input.agents[a].models.append(Int.random(in: 0..<input.models.count, using: &rng))
            return .init(agents: [a])
        case 6:
            let c = Int.random(in: 0..<input.credentials.count, using: &rng)
            input.credentials[c].holders.append((Int.random(in: 0..<input.agents.count, using: &rng), .toolHeld))
            return .init(credentials: [c])
        default:
            let c = Int.random(in: 0..<input.credentials.count, using: &rng)
            input.credentials[c].lastRotatedAt = ScoringEngineTests.asOf
            input.credentials[c].exposed.toggle()
            return .init(credentials: [c])
        }
    }

    @Test("incremental equals full on 300 random changes over 30 random estates")
    func incrementalEqualsFull() throws {
        var rng = SplitMix(state: 42)
        var recomputed = 0, total = 0
        for _ in 0..<30 {
            var input = Self.estate(&rng)
            var previous = try Self.engine.score(input)
            for _ in 0..<10 {
                let change = Self.mutate(&input, &rng)
                let (incremental, affected) = try Self.engine.rescore(input, previous: previous, change: change)
                let full = try Self.engine.score(input)
                #expect(incremental.models == full.models)
                #expect(incremental.agentB == full.agentB)
                #expect(incremental.agentA == full.agentA)
                #expect(incremental.credentials == full.credentials)
                recomputed += affected.credentials.count
                total += input.credentials.count
                previous = incremental
            }
        }
        // It must actually be incremental: far fewer credentials recomputed than a full run would.
        #expect(recomputed * 3 < total)
    }

    @Test("a change reaches exactly its downstream: descendant models, their agents, delegates, held credentials")
    func affectedSet() {
        var input = ScoringEngineTests.workedExample()
        input.agents.append(.init(key: "delegate", inputTrust: .internal, models: [], delegators: [0]))
        input.agents.append(.init(key: "unrelated", inputTrust: .internal, models: []))
        input.credentials.append(.init(key: "other", holders: [(2, .runtimeEnv)]))
        let affected = Self.engine.affected(by: .init(models: [0]), input: input)
        #expect(affected.models == [0, 1])
        #expect(affected.agents == [0, 1])
        #expect(affected.credentials == [0])
    }

    @Test("every what-if score in an explanation equals a full run with that control made valid")
    func whatIfIsExact() throws {
        var rng = SplitMix(state: 7)
        var checked = 0
        for _ in 0..<10 {
            let input = Self.estate(&rng)
            let full = try Self.engine.score(input)
            for index in (0..<input.credentials.count).filter({ full.credentials[$0].score > 0 }).prefix(5) {
                let explanation = try Self.engine.explain(credential: index, input: input, result: full, mappings: [:])
                for w in explanation.whatIf {
                    var changed = input
                    let key = String(w.subject.split(separator: ":")[1])
                    if w.subject.hasPrefix("model:") {
                        changed.models[changed.models.firstIndex { $0.key == key }!].controls[w.control] = .init(validity: 1)
                    } else {
                        changed.agents[changed.agents.firstIndex { $0.key == key }!].controls[w.control] = .init(validity: 1)
                    }
                    #expect(try Self.engine.score(changed).credentials[index].score == w.scoreAfter, "\(w.subject) \(w.control)")
                    checked += 1
                }
            }
        }
        #expect(checked > 20)
    }
}

@Suite("Stored model scores and hygiene bits", .timeLimit(.minutes(2)))
struct StoredModelScoreTests {
    @Test("models carrying a stored L* give every credential exactly its full-run score, with their lineage left out")
    func carriedModels() throws {
        for seed in 1...20 {
            var rng = IncrementalScoringTests.SplitMix(state: UInt64(seed))
            var input = IncrementalScoringTests.estate(&rng)
            let full = try IncrementalScoringTests.engine.score(input)
            // Keep one model and its descendants live; every other model carries its L* and loses its lineage.
            let live = IncrementalScoringTests.engine.affected(by: .init(models: [Int.random(in: 0..<input.models.count, using: &rng)]), input: input).models
            for m in input.models.indices where !live.contains(m) {
                input.models[m].carriedLStar = full.models[m].lStar
                input.models[m].parents = []
                input.models[m].datasets = []
            }
            let partial = try IncrementalScoringTests.engine.score(input)
            #expect(partial.credentials == full.credentials, "seed \(seed)")
            for m in live { #expect(partial.models[m] == full.models[m], "seed \(seed) model \(m)") }
        }
    }

    @Test("hygiene terms survive the trip through their stored bits, in order")
    func hygieneBits() throws {
        var seen = Set<String>()
        for seed in 1...20 {
            var rng = IncrementalScoringTests.SplitMix(state: UInt64(seed))
            let input = IncrementalScoringTests.estate(&rng)
            for c in try IncrementalScoringTests.engine.score(input).credentials {
                let names = c.hygieneTerms.map(\.name)
                #expect(ScoringEngine.hygieneNames(mask: ScoringEngine.hygieneMask(c.hygieneTerms)) == names)
                seen.formUnion(names)
            }
        }
        #expect(seen.count >= 5, "the random estates exercise most terms")
    }
}
