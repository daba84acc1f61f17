import Foundation
import SleeperCore
import SleeperStore
import Testing

@Suite("Catalogs in the database", .timeLimit(.minutes(8)))
struct CatalogStoreTests {
    static var controlsDirectory: URL { Fixtures.packageRoot.appending(path: "Controls") }

    static func files(replacing name: String? = nil, with text: String = "") throws -> [(name: String, data: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: controlsDirectory.path).sorted().map {
            $0 == name ? (name: $0, data: Data(text.utf8)) : (name: $0, data: try Data(contentsOf: controlsDirectory.appending(path: $0)))
        }
    }

    @Test("the shipped catalogs load, and loading again changes nothing")
    func syncIdempotent() async throws {
        try await TestDatabase.withFresh { db in
            let store = CatalogStore(db)
            let first = try await store.syncBundled()
            #expect(first.changed)
            let counts = try await db.count("SELECT count(*) FROM framework_items") * 1000 + db.count("SELECT count(*) FROM control_mappings")
            #expect(try await !store.syncBundled().changed)
            _ = try await store.syncBundled(force: true)
            #expect(try await db.count("SELECT count(*) FROM framework_items") * 1000 + db.count("SELECT count(*) FROM control_mappings") == counts)
            #expect(try await db.count("SELECT count(*) FROM framework_items WHERE framework_id = 'nist-ai-rmf' AND kind = 'subcategory'") == 72)
            #expect(try await db.count("SELECT count(*) FROM framework_items WHERE framework_id = 'owasp-agentic' AND id = 'A2' AND alias_of = '{ASI04,ASI06,ASI10}'") == 1)
            #expect(try await db.count("SELECT count(*) FROM atlas_mitigations WHERE framework_id = 'atlas' AND mitigation_id = 'AML.M0008' AND technique_id = 'AML.T0043.004'") == 1)
        }
    }

    @Test("an edited catalog updates in place: renamed, removed and added entries")
    func editedCatalogUpdates() async throws {
        try await TestDatabase.withFresh { db in
            let store = CatalogStore(db)
            _ = try await store.syncBundled()
            let original = try String(contentsOf: Self.controlsDirectory.appending(path: "owasp-nhi-2025.yaml"), encoding: .utf8)
            var edited = original.replacingOccurrences(of: "name: Long-Lived Secrets", with: "name: Long-Lived Secrets (renamed)")
            edited += "  - id: NHI11\n    name: An extra entry\n    description: Added by the test.\n"
            _ = try await store.sync(files: try Self.files(replacing: "owasp-nhi-2025.yaml", with: edited))
            let items = try #require(try await CatalogQueries(db).items(framework: "owasp-nhi"))
            #expect(items.first { $0.id == "NHI7" }?.name == "Long-Lived Secrets (renamed)")
            #expect(items.count == 11)
            _ = try await store.sync(files: try Self.files())
            #expect(try await CatalogQueries(db).items(framework: "owasp-nhi")?.count == 10)
        }
    }

    @Test("a broken catalog is refused and the stored one is left as it was")
    func brokenCatalogRefused() async throws {
        try await TestDatabase.withFresh { db in
            let store = CatalogStore(db)
            _ = try await store.syncBundled()
            let before = try await db.count("SELECT count(*) FROM control_mappings")
            let broken = "crosswalk: {statement: x}\nmappings:\n  SLP-ROTATION:\n    owasp-nhi: {NHI42: subset-of}\n"
            await #expect(throws: InventoryProblems.self) { try await store.sync(files: try Self.files(replacing: "crosswalk.yaml", with: broken)) }
            #expect(try await db.count("SELECT count(*) FROM control_mappings") == before)
        }
    }

    @Test("a complete ATLAS file is stored beside the shipped subset and survives a catalog sync")
    func importAtlas() async throws {
        try await TestDatabase.withFresh { db in
            let data = try Data(contentsOf: Fixtures.packageRoot.appending(path: "Tests/Fixtures/atlas/ATLAS-5.6.0.yaml"))
            let framework = try AtlasReader.read(data, file: "ATLAS-5.6.0.yaml").get()
            try await CatalogStore(db).importFramework(framework)
            _ = try await CatalogStore(db).syncBundled(force: true)
            let frameworks = try await CatalogQueries(db).frameworks()
            #expect(frameworks.first { $0.id == "atlas-full-5.6.0" }?.items == 16 + 101 + 69 + 35)
            #expect(frameworks.first { $0.id == "atlas" }?.items == 69)
            #expect(try await db.count("SELECT count(*) FROM framework_items WHERE framework_id = 'atlas-full-5.6.0' AND parent_id = 'AML.T0018'") == 3)
        }
    }

    @Test("the command line lists frameworks and items and shows both directions of a mapping")
    func commandLine() async throws {
        try await TestDatabase.withFresh { db in
            let url = TestDatabase.url(for: db.settings)
            _ = try await CatalogStore(db).syncBundled()
            let frameworks = try await Fixtures.sleeper(["frameworks", "--database-url", url])
            #expect(frameworks.stdout.contains("nist-ai-rmf    NIST AI Risk Management Framework      1.0      95"))
            let json = try await Fixtures.sleeper(["controls", "--framework", "atlas", "--format", "json", "--database-url", url])
            let items = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(items.count == 69)
            #expect(items.allSatisfy { $0["id"] is String && $0["name"] is String && $0["description"] is String })
            let a2 = try await Fixtures.sleeper(["controls", "show", "A2", "--database-url", url])
            #expect(a2.stdout.contains("A2 is an alias"))
            #expect(a2.stdout.contains("ASI04  Agentic Supply Chain Vulnerabilities"))
            #expect(a2.stdout.contains("ASI10  Rogue Agents"))
            let technique = try await Fixtures.sleeper(["controls", "show", "AML.T0043.004", "--database-url", url])
            #expect(technique.stdout.contains("AML.M0008  Validate AI Model"))
            #expect(technique.stdout.contains("SLP-BACKDOOR-SCAN"))
            let control = try await Fixtures.sleeper(["controls", "show", "SLP-HITL", "--database-url", url])
            #expect(control.stdout.contains("AML.M0029"))
            let unknown = try await Fixtures.sleeper(["controls", "show", "NOPE-1", "--database-url", url])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no control or framework item has the ID 'NOPE-1'"))
        }
    }
}
