import Foundation
import SleeperCore
import SleeperStore
import Testing

@Suite("Inventory import", .timeLimit(.minutes(8)))
struct ImportTests {
    /// Row counts of every inventory table, to prove that a failed import wrote nothing.
    static func tableCounts(_ db: Database) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in [
            "models", "datasets", "agents", "credentials", "resources",
            "trained_on", "derived_from", "uses_model", "delegates_to", "holds", "grants",
        ] {
            counts[table] = try await db.count("SELECT count(*) FROM \(table)")
        }
        return counts
    }

    /// In key order, and without what the file stated (which fields an entry named is how it was
    /// written, not what is stored).
    static func sorted(_ inv: Inventory) -> Inventory {
        var inv = inv
        for i in inv.models.indices { inv.models[i].stated = nil }
        for i in inv.datasets.indices { inv.datasets[i].stated = nil }
        for i in inv.resources.indices { inv.resources[i].stated = nil }
        for i in inv.agents.indices { inv.agents[i].stated = nil }
        for i in inv.credentials.indices { inv.credentials[i].stated = nil }
        inv.models.sort { $0.key < $1.key }
        inv.datasets.sort { $0.key < $1.key }
        inv.resources.sort { $0.key < $1.key }
        inv.agents = inv.agents.map { a in
            var a = a
            a.usesModels.sort(); a.delegatesTo.sort(); a.holds.sort { $0.credential < $1.credential }
            return a
        }.sorted { $0.key < $1.key }
        inv.credentials = inv.credentials.map { c in
            var c = c
            c.grants.sort { ($0.resource, $0.action.rawValue) < ($1.resource, $1.action.rawValue) }
            return c
        }.sorted { $0.key < $1.key }
        inv.models = inv.models.map { m in
            var m = m
            m.derivedFrom.sort { $0.model < $1.model }; m.trainedOn.sort()
            return m
        }
        return inv
    }

    @Test("a bulk import leaves its tables vacuumed, so index-only scans need not visit them")
    func bulkImportVacuums() async throws {
        let file = try ExportStoreTests.scratch().appending(path: "estate.json")
        let synth = try await Fixtures.python("synth", ["--credentials", "12000", "--seed", "3", "--out", file.path])
        try #require(synth.ok, "\(synth.output)")
        try await TestDatabase.withFresh { db in
            let run = try await Fixtures.sleeper(["import", file.path, "--database-url", TestDatabase.url(for: db.settings)])
            try #require(run.status == 0, "\(run.stderr)")
            #expect(try await db.count("SELECT count(*) FROM grants") >= 20_000, "large enough to count as a bulk import")
            // The visibility map is set only by VACUUM; ANALYZE alone leaves relallvisible at 0.
            #expect(try await db.count("SELECT relallvisible FROM pg_class WHERE relname = 'grants'") > 0)
            #expect(try await db.count("SELECT relallvisible FROM pg_class WHERE relname = 'holds'") > 0)
        }
    }

    @Test("the example round-trips: what is read back equals what was imported")
    func roundTrip() async throws {
        let parsed = try InventoryReader.read(try Fixtures.exampleInventory, file: "Examples/inventory.yaml").get()
        try await TestDatabase.withFresh { db in
            let summary = try await InventoryImporter(db).importFiles([parsed])
            #expect(summary.entities.first { $0.table == "models" }?.inserted == 12)
            let stored = try await InventoryStore(db).load()
            #expect(Self.sorted(stored) == Self.sorted(parsed.inventory))
        }
    }

    @Test("JSON listings of every kind import again into an empty database unchanged")
    func listingsReimport() async throws {
        let parsed = try InventoryReader.read(try Fixtures.exampleInventory, file: "Examples/inventory.yaml").get()
        let first = try await TestDatabase.withFresh { db in
            _ = try await InventoryImporter(db).importFiles([parsed])
            return try await InventoryStore(db).load()
        }
        var document = "{"
        document += EntityKind.allCases.map { kind in
            "\"\(kind.rawValue)\": " + ListingRenderer.json(InventoryListing.listing(kind, of: first))
        }.joined(separator: ",\n")
        document += "}"
        let reparsed = try InventoryReader.read(Data(document.utf8), file: "listing.json").get()
        let second = try await TestDatabase.withFresh { db in
            _ = try await InventoryImporter(db).importFiles([reparsed])
            return try await InventoryStore(db).load()
        }
        #expect(Self.sorted(first) == Self.sorted(second))
    }

    @Test("importing the same file twice changes nothing")
    func idempotent() async throws {
        let parsed = try InventoryReader.read(try Fixtures.exampleInventory, file: "Examples/inventory.yaml").get()
        try await TestDatabase.withFresh { db in
            _ = try await InventoryImporter(db).importFiles([parsed])
            let before = try await db.count("SELECT count(*) FROM models WHERE updated_at < now()")
            let again = try await InventoryImporter(db).importFiles([parsed])
            #expect(!again.changedAnything)
            #expect(again.entities.allSatisfy { $0.unchanged == $0.inFile })
            #expect(try await db.count("SELECT count(*) FROM models WHERE updated_at < now()") == before)
        }
    }

    @Test("dry run reports the changes and writes nothing")
    func dryRun() async throws {
        let parsed = try InventoryReader.read(try Fixtures.exampleInventory, file: "Examples/inventory.yaml").get()
        try await TestDatabase.withFresh { db in
            let summary = try await InventoryImporter(db).importFiles([parsed], dryRun: true)
            #expect(summary.changedAnything)
            #expect(summary.edges.first { $0.table == "holds" }?.added == 13)
            #expect(try await Self.tableCounts(db).values.allSatisfy { $0 == 0 })
        }
    }

    @Test("an entity's edge lists replace what was stored; attributes update in place")
    func edgesReplaced() async throws {
        try await TestDatabase.withFresh { db in
            let importer = InventoryImporter(db)
            _ = try await importer.importFiles([
                try Fixtures.parse(
                    """
                    resources: [{key: r1, tier: 0}, {key: r2, tier: 3}]
                    credentials:
                      - {key: c1, kind: api_key, grants: [{resource: r1, action: read}, {resource: r2, action: write}]}
                      - {key: c2, kind: api_key}
                    agents: [{key: a1, holds: [{credential: c1, delivery: runtime_env}, {credential: c2, delivery: brokered}]}]
                    """)
            ])
            let second = try await importer.importFiles([
                try Fixtures.parse(
                    """
                    credentials: [{key: c1, kind: api_key, grants: [{resource: r1, action: read}, {resource: r1, action: admin}]}]
                    agents: [{key: a1, holds: [{credential: c1, delivery: federated}]}]
                    """)
            ])
            #expect(second.edges.first { $0.table == "grants" } == .init(table: "grants", inFile: 2, added: 1, changed: 0, removed: 1))
            #expect(second.edges.first { $0.table == "holds" } == .init(table: "holds", inFile: 1, added: 0, changed: 1, removed: 1))
            let stored = try await InventoryStore(db).load()
            #expect(stored.agents.first?.holds == [.init(credential: "c1", delivery: .federated)])
            #expect(Set(stored.credentials.first { $0.key == "c1" }!.grants) == [.init(resource: "r1", action: .read), .init(resource: "r1", action: .admin)])
            #expect(stored.credentials.count == 2)  // c2 was not in the second file: left as it was
        }
    }

    @Test("references may point at entities stored by an earlier import")
    func referencesToStoredEntities() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await InventoryImporter(db).importFiles([try Fixtures.parse("resources: [{key: r1, tier: 1}]\nmodels: [{key: base}]")])
            let summary = try await InventoryImporter(db).importFiles([
                try Fixtures.parse(
                    """
                    models: [{key: child, derived_from: [{model: base, relation: adapter}]}]
                    credentials: [{key: c1, grants: [{resource: r1, action: exec}]}]
                    """)
            ])
            #expect(summary.edges.first { $0.table == "derived_from" }?.added == 1)
            #expect(summary.edges.first { $0.table == "grants" }?.added == 1)
        }
    }

    /// Imports `yaml` into a database holding the example estate and returns the problems,
    /// checking that not one row changed.
    func rejected(_ yaml: String, files extra: [String] = []) async throws -> [InventoryProblem] {
        let example = try InventoryReader.read(try Fixtures.exampleInventory, file: "Examples/inventory.yaml").get()
        return try await TestDatabase.withFresh { db in
            _ = try await InventoryImporter(db).importFiles([example])
            let before = try await Self.tableCounts(db)
            let beforeInventory = try await InventoryStore(db).load()
            var problems: [InventoryProblem] = []
            var parsed: [ParsedInventory] = []
            for (i, text) in ([yaml] + extra).enumerated() {
                switch InventoryReader.read(Data(text.utf8), file: "bad\(i).yaml") {
                case .success(let p): parsed.append(p)
                case .failure(let p): problems += p.problems
                }
            }
            if problems.isEmpty {
                do {
                    _ = try await InventoryImporter(db).importFiles(parsed)
                    Issue.record("the import was accepted")
                } catch let p as InventoryProblems {
                    problems = p.problems
                }
            }
            #expect(try await Self.tableCounts(db) == before)
            #expect(try await InventoryStore(db).load() == beforeInventory)
            return problems
        }
    }

    @Test("an unknown reference is located, and valid entities in the same file are not written")
    func unknownReference() async throws {
        let problems = try await rejected(
            """
            resources: [{key: brand-new, tier: 2}]
            agents:
              - {key: a-new, uses_models: [acme-support-ft], holds: [{credential: payments-api-key, delivery: brokered}]}
              - {key: a-bad, holds: [{credential: no-such-key, delivery: runtime_env}]}
            """)
        #expect(problems.map(\.description) == ["bad0.yaml: agents[1].holds[0].credential: unknown credential 'no-such-key' (not in this import nor in the database)"])
    }

    @Test("duplicate keys within a file and across files")
    func duplicateKeys() async throws {
        let problems = try await rejected("resources: [{key: r9, tier: 1}, {key: r9, tier: 2}]")
        #expect(problems.map(\.path) == ["resources[1].key"])
        #expect(problems.first?.message.contains("duplicate key 'r9'") == true)
        let across = try await rejected("resources: [{key: r9, tier: 1}]", files: ["resources: [{key: r9, tier: 2}]"])
        #expect(across.map(\.description) == ["bad1.yaml: resources[0].key: duplicate key 'r9' (already defined in bad0.yaml at resources[0].key)"])
    }

    @Test("bad enum values and bad dates, all reported in one run")
    func badValuesAllAtOnce() async throws {
        let problems = try await rejected(
            """
            datasets: [{key: d1, provenance: scraped}]
            agents: [{key: a1, input_trust: external, holds: [{credential: payments-api-key, delivery: env}]}]
            credentials: [{key: c1, created_at: 2025-13-45, last_used_at: yesterday, grants: [{resource: crm, action: delete}]}]
            resources: [{key: r1, tier: 7}]
            """)
        let paths = problems.map(\.path)
        #expect(paths.contains("datasets[0].provenance"))
        #expect(paths.contains("agents[0].input_trust"))
        #expect(paths.contains("agents[0].holds[0].delivery"))
        #expect(paths.contains("credentials[0].created_at"))
        #expect(paths.contains("credentials[0].last_used_at"))
        #expect(paths.contains("credentials[0].grants[0].action"))
        #expect(paths.contains("resources[0].tier"))
        #expect(problems.first { $0.path == "datasets[0].provenance" }?.message == "'scraped' is not one of: unknown, public_scraped, curated_screened")
    }

    @Test("a lineage cycle names the models on it, including stored edges")
    func lineageCycle() async throws {
        let inFile = try await rejected(
            """
            models:
              - {key: m-a, derived_from: [{model: m-c, relation: finetune}]}
              - {key: m-b, derived_from: [{model: m-a, relation: adapter}]}
              - {key: m-c, derived_from: [{model: m-b, relation: quantized}]}
            """)
        #expect(inFile.count == 1)
        #expect(inFile.first?.message == "lineage cycle: m-a → m-b → m-c → m-a (derived_from must not loop)")
        // The example stores acme-support-ft-q4 derived from acme-support-ft; closing the loop is refused.
        let throughStored = try await rejected(
            """
            models: [{key: acme-support-ft, derived_from: [{model: acme-support-ft-q4, relation: finetune}]}]
            """)
        #expect(throughStored.first?.message.contains("lineage cycle: acme-support-ft → acme-support-ft-q4 → acme-support-ft") == true)
    }

    @Test("secret material is refused with its path and never echoed")
    func secretMaterial() async throws {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU"
        let problems = try await rejected(
            """
            credentials:
              - {key: c1, owner: "\(jwt)"}
              - key: c2
                x-note: "-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----"
              - {key: c3, fingerprint: "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"}
              - {key: c4, provider: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
              - {key: c5, secret: "x"}
            """)
        #expect(problems.map(\.path) == ["credentials[0].owner", "credentials[1].x-note", "credentials[2].fingerprint", "credentials[3].provider", "credentials[4].secret"])
        #expect(problems.allSatisfy { !$0.description.contains(jwt) && !$0.description.contains("ghp_") && !$0.description.contains("wJalr") })
        #expect(problems[0].message.contains("JSON Web Token"))
        #expect(problems[1].message.contains("private key"))
        #expect(problems[2].message.contains("GitHub token"))
        #expect(problems[3].message.contains("AWS secret access key"))
    }
}
