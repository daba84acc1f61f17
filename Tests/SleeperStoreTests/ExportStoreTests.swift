import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Exports made by the real CLI from the example estate, checked with NIST's schemas.
@Suite("Exports against the database", .timeLimit(.minutes(8)))
struct ExportStoreTests {
    static let examples = Fixtures.packageRoot.appending(path: "Examples")

    /// The example estate with its evidence and one scoring run.
    static func withEstate<T: Sendable>(_ body: (Database, String) async throws -> T) async throws -> T {
        try await TestDatabase.withCatalogs { db, url in
            for args in [
                ["import", examples.appending(path: "inventory.yaml").path],
                ["evidence", "import", examples.appending(path: "evidence.yaml").path],
                ["score"],
            ] {
                let run = try await Fixtures.sleeper(args + ["--database-url", url])
                #expect(run.status == 0, "\(args): \(run.stderr)")
                try #require(run.status == 0)
            }
            return try await body(db, url)
        }
    }

    /// `text` written as `name` in a fresh scratch directory.
    static func scratchFile(_ name: String, _ text: String) -> URL {
        let file = ((try? scratch()) ?? FileManager.default.temporaryDirectory).appending(path: name)
        try? Data(text.utf8).write(to: file)
        return file
    }

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appending(path: "sleeper-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `yaml` written as `inventory.yaml` in a fresh scratch directory and imported, then scored
    /// when `scored`; the directory and the file, for what the test writes next.
    static func imported(_ yaml: String, url: String, environment: [String: String], scored: Bool = true) async throws -> (dir: URL, inventory: URL) {
        let dir = try scratch()
        let inventory = dir.appending(path: "inventory.yaml")
        try Data(yaml.utf8).write(to: inventory)
        #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: environment).status == 0)
        if scored { #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: environment).status == 0) }
        return (dir, inventory)
    }

    /// scripts/validate-oscal: jsonschema with the `regex` module for the schemas' \p{L} patterns.
    static func validate(_ files: [URL]) async throws -> (ok: Bool, output: String) {
        try await Fixtures.python("validate-oscal", files.map(\.path))
    }

    @Test("OSCAL assessment results, POA&M and mapping validate against the official 1.2.1 schemas")
    func oscalValidates() async throws {
        try await Self.withEstate { _, url in
            let dir = try Self.scratch()
            var files: [URL] = []
            for (format, framework) in [("oscal-ar", nil), ("oscal-poam", nil), ("oscal-mapping", nil), ("oscal-ar", "owasp-agentic"), ("oscal-poam", "owasp-nhi")] as [(String, String?)] {
                let file = dir.appending(path: "\(format)-\(framework ?? "all").json")
                let run = try await Fixtures.sleeper(["export", format, "--out", file.path, "--database-url", url] + (framework.map { ["--framework", $0] } ?? []))
                #expect(run.status == 0, "\(run.stderr)")
                files.append(file)
            }
            let result = try await Self.validate(files)
            #expect(result.ok, "\(result.output)")
            #expect(result.output.components(separatedBy: "valid ").count - 1 == files.count)

            // The validator does catch a broken document, so the pass above means something.
            var broken = try String(contentsOf: files[0], encoding: .utf8)
            broken = broken.replacingOccurrences(of: "\"state\": \"not-satisfied\"", with: "\"state\": \"unsure\"")
            let bad = dir.appending(path: "broken.json")
            try broken.write(to: bad, atomically: true, encoding: .utf8)
            let rejected = try await Self.validate([bad])
            #expect(!rejected.ok)
            #expect(rejected.output.contains("state"))
        }
    }

    @Test("two exports of the same state and as-of are identical; a new record changes them")
    func stable() async throws {
        try await Self.withEstate { db, url in
            let asOf = Timestamps.format(Date().addingTimeInterval(3600))
            func export(_ format: String) async throws -> String {
                let run = try await Fixtures.sleeper(["export", format, "--as-of", asOf, "--database-url", url])
                #expect(run.status == 0, "\(run.stderr)")
                return run.stdout
            }
            for format in ["oscal-ar", "oscal-poam", "oscal-mapping", "csv", "json"] {
                await #expect(try export(format) == export(format), "\(format) differs between two exports")
            }
            let before = try await export("oscal-ar")
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "agent:email-triage", "--control", "SLP-HITL",
                "--result", "pass", "--effective", TestClock.daysFromToday(-10), "--database-url", url,
            ])
            try #require(add.status == 0, "\(add.stderr)")
            let after = try await export("oscal-ar")
            #expect(before != after)
            let uuid = try #require(before.firstMatch(of: /"uuid": "([0-9a-f-]+)"/)?.1)
            #expect(!after.contains(String(uuid)), "the document UUID must change with its content")
        }
    }

    @Test("findings agree with `coverage`, observations cite artifact hashes, risks are the critical and high exposures")
    func findingsMatchCoverage() async throws {
        try await Self.withEstate { db, _ in
            let asOf = Date().addingTimeInterval(60)
            let snapshot = try await ComplianceSnapshotLoader(db).load(asOf: asOf)
            for framework in snapshot.catalog.frameworks {
                let coverage = Dictionary(uniqueKeysWithValues: try await EvidenceQueries(db).coverage(framework: framework.id, asOf: asOf).map { ($0.item, $0) })
                for a in snapshot.assessments(framework: framework) {
                    let c = try #require(coverage[a.item.id])
                    #expect((a.applicable, a.covered) == (c.applicable, c.covered), "\(framework.id) \(a.item.id)")
                }
            }
            let doc = try JSONSerialization.jsonObject(with: Data(AssessmentResultsExport.render(snapshot).utf8)) as! [String: Any]
            let results = (doc["assessment-results"] as! [String: Any])["results"] as! [[String: Any]]
            #expect(results.count == snapshot.catalog.frameworks.count + 1)
            let observations = results.flatMap { $0["observations"] as? [[String: Any]] ?? [] }
            #expect(!observations.isEmpty)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: observations), as: UTF8.self)
            let artifact = try Data(contentsOf: Self.examples.appending(path: "artifacts/q4-backdoor-scan.txt"))
            #expect(text.contains(EvidenceBundle.sha256(artifact)))
            let risks = results.last!["risks"] as? [[String: Any]] ?? []
            let expected = try await db.count("SELECT count(*) FROM credential_scores WHERE band IN ('critical', 'high')")
            #expect(risks.count == expected)
            #expect(expected > 0)
        }
    }

    @Test("CSV has one row per subject × control; JSON carries the same rows and the exposures")
    func csvAndJSON() async throws {
        try await Self.withEstate { db, url in
            let csv = try await Fixtures.sleeper(["export", "csv", "--database-url", url])
            #expect(csv.status == 0)
            let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines[0] == ComplianceTable.columns.joined(separator: ","))
            let statuses = try await EvidenceQueries(db).statuses(asOf: Date())
            #expect(lines.count - 1 == statuses.count)
            #expect(lines.contains { $0.hasPrefix("model,acme-support-ft-q4,") && $0.contains(",SLP-BACKDOOR-SCAN,") && $0.contains(",valid,") })
            let json = try await Fixtures.sleeper(["export", "json", "--framework", "owasp-nhi", "--database-url", url])
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
            let rows = object["controls"] as! [[String: Any]]
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { ($0["framework_items"] as! [String]).allSatisfy { $0.hasPrefix("owasp-nhi:") } })
            #expect((object["exposures"] as! [[String: Any]]).count == (try await db.count("SELECT count(*) FROM credential_scores WHERE band IN ('critical', 'high')")))
        }
    }

    @Test("a signed bundle verifies, names a changed file, and refuses another signer's key")
    func signedBundle() async throws {
        try await Self.withEstate { _, url in
            let dir = try Self.scratch()
            let key = dir.appending(path: "keys/signing.ed25519").path
            #expect(try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url]).status == 0)
            #expect(try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url]).status == 1, "an existing key is not replaced silently")
            let attributes = try FileManager.default.attributesOfItem(atPath: key)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let bundle = dir.appending(path: "bundle").path
            let made = try await Fixtures.sleeper(["export", "oscal-ar", "--bundle", bundle, "--key", key, "--database-url", url])
            #expect(made.status == 0, "\(made.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: bundle).sorted()
            #expect(names == ["assessment-results.json", "evidence-manifest.json", "manifest.json", "manifest.sig"])
            let ok = try await Fixtures.sleeper(["verify-bundle", bundle, "--key", key + ".pub"])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("verifies: 2 files"))

            let other = dir.appending(path: "other.ed25519").path
            _ = try await Fixtures.sleeper(["keys", "create", "--out", other, "--database-url", url])
            let wrongKey = try await Fixtures.sleeper(["verify-bundle", bundle, "--key", other + ".pub"])
            #expect(wrongKey.status == 1)
            #expect(wrongKey.stderr.contains("not the trusted key"))

            let target = URL(fileURLWithPath: bundle).appending(path: "evidence-manifest.json")
            var text = try String(contentsOf: target, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"pass\"", with: "\"fail\"")
            try text.write(to: target, atomically: true, encoding: .utf8)
            let tampered = try await Fixtures.sleeper(["verify-bundle", bundle, "--key", key + ".pub"])
            #expect(tampered.status == 1)
            #expect(tampered.stderr.contains("evidence-manifest.json: changed"))
            #expect(!tampered.stderr.contains("assessment-results.json: changed"))

            // Re-signing the manifest by hand is caught by the signature.
            let manifest = URL(fileURLWithPath: bundle).appending(path: "manifest.json")
            let listed = try String(contentsOf: manifest, encoding: .utf8)
            try listed.replacingOccurrences(of: "\"size\"", with: "\"size\" ").write(to: manifest, atomically: true, encoding: .utf8)
            let resigned = try await Fixtures.sleeper(["verify-bundle", bundle])
            #expect(resigned.stderr.contains("signature does not match"))
        }
    }
}

@Suite("Scoped scoring", .timeLimit(.minutes(8)))
struct ScopedScoringTests {
    @Test("explaining from a credential's upstream, or a model's or agent's downstream, gives what the whole estate gives, for every one")
    func scopedExplainEqualsFull() async throws {
        try await ExportStoreTests.withEstate { db, _ in
            let asOf = Date().addingTimeInterval(3600)
            let weights = try ScoreRuns.bundledWeights()
            let engine = ScoringEngine(weights: weights)
            let (input, _) = try await ScoringInputLoader(db).load(asOf: asOf, weights: weights)
            let result = try engine.score(input)
            let mappings = Dictionary(grouping: try await CatalogQueries(db).mappings(), by: \.control).mapValues { $0.map { "\($0.framework):\($0.item)" } }
            #expect(input.credentials.count > 5)
            for (i, c) in input.credentials.enumerated() {
                let full = ExplanationRenderer.json(try engine.explain(credential: i, input: input, result: result, mappings: mappings))
                let scoped = try await Explainer(db).explain(Subject(kind: .credential, key: c.key), asOf: asOf).json()
                #expect(full == scoped, "credential \(c.key)")
            }
            // Blast radii from what lies downstream of each model and agent, and its upstream.
            for (i, m) in input.models.enumerated() {
                let full = engine.blastRadius(model: i, input: input, result: result).json()
                #expect(try await Explainer(db).explain(Subject(kind: .model, key: m.key), asOf: asOf).json() == full, "model \(m.key)")
            }
            for (i, a) in input.agents.enumerated() {
                let full = engine.blastRadius(agent: i, input: input, result: result).json()
                #expect(try await Explainer(db).explain(Subject(kind: .agent, key: a.key), asOf: asOf).json() == full, "agent \(a.key)")
            }
            let scope = try await ScoringInputLoader(db).upstreamScope(credentialKeys: ["payments-api-key"])
            #expect(scope.agents.count < input.agents.count, "the scope is a part of the estate, not all of it")
        }
    }
}

@Suite("Scoring input loader", .timeLimit(.minutes(8)))
struct ScoringInputLoaderTests {
    @Test("packed credentials and edges read back exactly: keys with : / @ + . _ -, free-text owners, missing owners, timestamps to the microsecond")
    func packedRowsRoundTrip() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            _ = try await InventoryImporter(db).importFiles([
                try Fixtures.parse(
                    """
                    resources: [{key: "r1/a", tier: 0}, {key: "r:2@x", tier: 2}]
                    models: [{key: m1, supplier: acme}]
                    agents: [{key: "agent:one/two", uses_models: [m1], holds: [{credential: "k:1/2@x+y-z.w_v", delivery: brokered}, {credential: plain, delivery: federated}]}]
                    credentials:
                      - {key: "k:1/2@x+y-z.w_v", kind: oauth_token, owner: "équipe:7, ops – 42", created_at: "2026-01-02T03:04:05.123456Z",
                         last_rotated_at: 2026-02-03, expires_at: "2027-03-04T05:06:07Z", last_used_at: 2026-11-20, ttl_seconds: 900,
                         exposed: true, grants: [{resource: "r1/a", action: admin}, {resource: "r:2@x", action: read}]}
                      - {key: plain, kind: api_key}
                    """)
            ])
            let (input, ids) = try await ScoringInputLoader(db).load(asOf: Date(), weights: try ScoreRuns.bundledWeights())
            let stored = try await InventoryStore(db).load([.credentials])
            #expect(ids.credentials.count == 2)
            for c in stored.credentials {
                let i = try #require(input.credentials.firstIndex { $0.key == c.key }, "\(c.key)")
                let l = input.credentials[i]
                #expect(l.owner == c.owner)
                #expect(l.kind == c.kind)
                #expect(l.ttlSeconds == c.ttlSeconds)
                #expect(l.exposed == c.exposed)
                for (a, b) in [(l.createdAt, c.createdAt), (l.lastRotatedAt, c.lastRotatedAt), (l.expiresAt, c.expiresAt), (l.lastUsedAt, c.lastUsedAt)] {
                    #expect(a.map { ($0.timeIntervalSince1970 * 1_000_000).rounded() } == b.map { ($0.timeIntervalSince1970 * 1_000_000).rounded() }, "\(c.key)")
                }
                #expect(l.grants.map { "\(input.resources[$0.resource].key) \($0.action.rawValue)" }.sorted() == c.grants.map { "\($0.resource) \($0.action.rawValue)" }.sorted())
            }
            let odd = input.credentials.first { $0.key == "k:1/2@x+y-z.w_v" }!
            #expect(odd.holders.map { "\(input.agents[$0.agent].key) \($0.delivery.rawValue)" } == ["agent:one/two brokered"])
            #expect(odd.owner == "équipe:7, ops – 42")
            #expect(input.credentials.first { $0.key == "plain" }!.owner == nil)
        }
    }
}
