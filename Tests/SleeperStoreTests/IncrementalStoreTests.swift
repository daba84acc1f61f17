import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

@Suite("Incremental rescoring in the store", .timeLimit(.minutes(8)))
struct IncrementalStoreTests {
    /// A small deterministic generator, so a failure can be replayed.
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

    static func scores(_ db: Database, run: Int) async throws -> [String: String] {
        let rows = try await ScoreRuns(db).rows(of: run)
        var out: [String: String] = [:]
        for try await (key, row) in try await db.client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT credential_key, concat_ws(' ', score, band, p, impact, hygiene, impact_count, exposure_count,
                                                     top_model_id, top_agent, top_resource, hygiene_terms)
                    FROM \(rows) s
                    """), logger: db.logger
        ).decode((String, String).self) {
            out[key] = row
        }
        return out
    }

    /// Each model's stored L* and main factor in a run (an incremental run's over its base run's).
    static func models(_ db: Database, run: Int) async throws -> [String: String] {
        let rows = try await ScoreRuns(db).models(of: run)
        var out: [String: String] = [:]
        for try await (key, row) in try await db.client.query(
            PostgresQuery(unsafeSQL: "SELECT model_key, concat_ws(' ', l_star, main) FROM \(rows) m"),
            logger: db.logger
        ).decode((String, String).self) {
            out[key] = row
        }
        return out
    }

    static func importJSON(_ db: Database, _ kind: EntityKind, _ object: [String: Any], asOf: Date) async throws -> IncrementalRescore.Outcome? {
        let data = try JSONSerialization.data(withJSONObject: [kind.rawValue: [object]])
        let parsed = InventoryReader.readAll(data, file: "change.json")
        switch try await ScoredChanges(db).importInventory([parsed], actor: "test", asOf: asOf).rescore {
        case .done(let outcome): return outcome
        case .failed(let error): throw StoreError.invalidInput("rescore failed: \(error)")
        case nil: return nil
        }
    }

    static func entity(_ db: Database, _ kind: EntityKind, _ key: String) async throws -> [String: Any] {
        let inventory = try await InventoryStore(db).load([kind], page: .init(key: key, limit: 1))
        let text = ListingRenderer.jsonObjects(InventoryListing.listing(kind, of: inventory))[0]
        var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        object = object.filter { !($0.value is NSNull) }
        return object
    }

    /// A full run at a whole second two hours ahead, which every later run in a test shares: an
    /// incremental run equals a full run at the same as-of time.
    static func fullRun(_ db: Database) async throws -> (asOf: Date, weights: ScoringWeights) {
        let asOf = Date().addingTimeInterval(7200).addingTimeInterval(-Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1))
        let weights = try ScoreRuns.bundledWeights()
        _ = try await ScoreRuns(db).run(asOf: asOf, weights: weights)
        return (asOf, weights)
    }

    @Test("random evidence and inventory changes: the incremental run equals a full run at the same date, and touches only what is downstream")
    func incrementalEqualsFull() async throws {
        try await ExportStoreTests.withEstate { db, _ in
            let (asOf, weights) = try await Self.fullRun(db)
            let inventory = try await InventoryStore(db).load()
            let controls = try await CatalogQueries(db).controls()
            var rng = SplitMix(state: 7)
            var incrementalRuns = 0, smallest = Int.max, comparisons = 0
            for step in 0..<30 {
                let choice = Int.random(in: 0..<5, using: &rng)
                var outcome: IncrementalRescore.Outcome?
                switch choice {
                case 0, 1:
                    let kind: SubjectKind = choice == 0 ? .model : .agent
                    let key = kind == .model ? inventory.models.randomElement(using: &rng)!.key : inventory.agents.randomElement(using: &rng)!.key
                    let control = controls.filter { $0.appliesTo.contains(kind) }.randomElement(using: &rng)!
                    let records = try await EvidenceLedger(db).record([
                        EvidenceDraft(
                            subject: Subject(kind: kind, key: key), control: control.id,
                            result: Bool.random(using: &rng) ? .pass : .fail)
                    ])
                    outcome = try await IncrementalRescore(db).afterEvidence(records, asOf: asOf)
                case 2:
                    let agent = inventory.agents.randomElement(using: &rng)!.key
                    var object = try await Self.entity(db, .agents, agent)
                    object["uses_models"] = [inventory.models.randomElement(using: &rng)!.key]
                    outcome = try await Self.importJSON(db, .agents, object, asOf: asOf)
                case 3:
                    let model = inventory.models.randomElement(using: &rng)!.key
                    var object = try await Self.entity(db, .models, model)
                    object["lineage_verified"] = !(object["lineage_verified"] as? Bool ?? false)
                    outcome = try await Self.importJSON(db, .models, object, asOf: asOf)
                default:
                    let agent = inventory.agents.randomElement(using: &rng)!.key
                    var object = try await Self.entity(db, .agents, agent)
                    var holds = object["holds"] as? [[String: Any]] ?? []
                    let credential = inventory.credentials.randomElement(using: &rng)!.key
                    if !holds.contains(where: { $0["credential"] as? String == credential }) { holds.append(["credential": credential, "delivery": "runtime_env"]) }
                    object["holds"] = holds
                    outcome = try await Self.importJSON(db, .agents, object, asOf: asOf)
                }
                if let o = outcome, let run = o.run {
                    incrementalRuns += 1
                    smallest = min(smallest, o.affected)
                    #expect(o.base != nil, "small changes in a small estate stay incremental")
                    #expect(o.fromStoredModels, "step \(step): the rescore starts from the stored model scores, not the whole upstream")
                    if step % 3 == 2 {
                        comparisons += 1
                        let full = try await ScoreRuns(db).run(asOf: asOf, weights: weights)
                        let (a, b) = (try await Self.scores(db, run: run), try await Self.scores(db, run: full.id))
                        #expect(a.count == b.count)
                        for (key, value) in b where a[key] != value { Issue.record("step \(step): \(key) incremental \(a[key] ?? "missing") full \(value)") }
                        // The model scores the next rescore starts from stay those of a full run.
                        let (ma, mb) = (try await Self.models(db, run: run), try await Self.models(db, run: full.id))
                        #expect(ma.count == mb.count)
                        for (key, value) in mb where ma[key] != value { Issue.record("step \(step): model \(key) incremental \(ma[key] ?? "missing") full \(value)") }
                        // The exposure list reads an incremental run through its base's index; same answer.
                        for (top, offset, band) in [(3, 0, nil), (4, 2, nil), (nil, 0, nil), (2, 0, .low)] as [(Int?, Int, Band?)] {
                            let x = try await ScoreRuns(db).exposures(run: run, top: top, band: band, minScore: nil, owner: nil, resource: nil, offset: offset)
                            let y = try await ScoreRuns(db).exposures(run: full.id, top: top, band: band, minScore: nil, owner: nil, resource: nil, offset: offset)
                            #expect(x == y, "step \(step): exposures top \(String(describing: top)) offset \(offset)")
                        }
                    }
                }
            }
            #expect(incrementalRuns >= 10, "the random changes must exercise incremental runs")
            #expect(comparisons >= 4, "and compare them with full runs, some after a chain of incremental runs")
            #expect(smallest < inventory.credentials.count)
        }
    }

    @Test("without stored model scores (a run from before they were kept) a rescore reads the whole upstream, with the same result")
    func withoutStoredModels() async throws {
        try await ExportStoreTests.withEstate { db, _ in
            let (asOf, weights) = try await Self.fullRun(db)
            try await db.client.query("DELETE FROM score_run_models", logger: db.logger)
            let records = try await EvidenceLedger(db).record([EvidenceDraft(subject: Subject(kind: .model, key: "llama-3-8b"), control: "SLP-BACKDOOR-SCAN", result: .fail)])
            let outcome = try await IncrementalRescore(db).afterEvidence(records, asOf: asOf)
            let run = try #require(outcome.run)
            #expect(outcome.base != nil)
            #expect(!outcome.fromStoredModels)
            let full = try await ScoreRuns(db).run(asOf: asOf, weights: weights)
            let (a, b) = (try await Self.scores(db, run: run), try await Self.scores(db, run: full.id))
            #expect(a.count == b.count)
            for (key, value) in b where a[key] != value { Issue.record("\(key) incremental \(a[key] ?? "missing") full \(value)") }
        }
    }

    @Test("an evidence record on the command line rescores downstream and the exposure list shows it")
    func commandLine() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let before = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url]).stdout
            let add = try await Fixtures.sleeper(["evidence", "add", "--subject", "agent:email-triage", "--control", "SLP-HITL", "--result", "pass", "--database-url", url])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("rescored"), "\(add.stdout)")
            #expect(add.stdout.contains("incremental over run 1"))
            let after = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url]).stdout
            #expect(before != after)
            #expect(try await db.count("SELECT count(*) FROM score_runs WHERE base_run_id = 1 AND trigger LIKE 'evidence #%'") == 1)
            // The incremental run holds only the rescored rows, and the list still has every credential.
            #expect(try await db.count("SELECT count(*) FROM incremental_scores WHERE run_id = 2") < (try await db.count("SELECT count(*) FROM credentials")))
            #expect(after.split(separator: "\r\n").count == before.split(separator: "\r\n").count)
        }
    }
}
