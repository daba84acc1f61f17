import Foundation
import SleeperCore
import SleeperStore
import Testing

/// One entity per real thing: a hand-written `same_as`, and the same content digest, make one
/// model of two keys — stored rows, edges, evidence and later imports alike.
@Suite("One model per real thing", .timeLimit(.minutes(8)))
struct SameModelTests {
    @Test("same_as merges the card's model into the BOM's: its edges move, evidence recorded of it counts, a re-import of the card keeps one model, the audit says so")
    func sameAs() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: env) }
            let bom = SourceImportTests.fixtures.appending(path: "acme-ai-bom.cdx.json").path
            let card = SourceImportTests.fixtures.appending(path: "acme-support-ft/README.md").path
            #expect(try await sleeper(["import", bom, card]).status == 0)
            #expect(try await db.count("SELECT count(*) FROM models WHERE key IN ('acme-support-ft', 'acme/support-ft@2.1')") == 2)
            let cardParents = try await db.count("SELECT count(*) FROM derived_from d JOIN models m ON m.id = d.model_id WHERE m.key = 'acme-support-ft'")
            #expect(cardParents == 1, "the card names its base model")
            let fail = try await sleeper(["evidence", "add", "--subject", "model:acme-support-ft", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail", "--note", "trigger found"])
            #expect(fail.status == 0, "\(fail.stderr)")

            let glue = ExportStoreTests.scratchFile(
                "glue.yaml",
                """
                models:
                  - key: acme/support-ft@2.1
                    same_as: [acme-support-ft]
                """)
            let merged = try await sleeper(["import", glue.path])
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(merged.stdout.contains("one model: model:acme-support-ft is model:acme/support-ft@2.1 (declared same_as by 'acme/support-ft@2.1' in"), "\(merged.stdout)")
            #expect(try await db.count("SELECT count(*) FROM models WHERE key = 'acme-support-ft'") == 0)
            #expect(try await db.count("SELECT count(*) FROM model_aliases WHERE alias = 'acme-support-ft' AND canonical = 'acme/support-ft@2.1'") == 1)
            // The card's parent is now the BOM model's, each parent once.
            let parents = try await db.count(
                """
                SELECT count(*) FROM derived_from d JOIN models m ON m.id = d.model_id JOIN models p ON p.id = d.parent_id
                WHERE m.key = 'acme/support-ft@2.1' AND p.key = 'meta-llama/Meta-Llama-3-8B-Instruct'
                """)
            #expect(parents == 1)
            // The failed scan recorded of the card's key counts for the model.
            let gaps = try await sleeper(["gaps", "--subject", "model:acme/support-ft@2.1", "--format", "json"])
            #expect(gaps.status == 0, "\(gaps.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(gaps.stdout.utf8)) as? [[String: Any]], "\(gaps.stdout)")
            let scan = rows.first { $0["control"] as? String == "SLP-BACKDOOR-SCAN" }
            #expect(scan?["status"] as? String == "failed", "\(rows)")
            // Evidence may still name the alias; it is that model.
            #expect(try await sleeper(["evidence", "list", "--subject", "model:acme-support-ft"]).status == 0)

            // The card again: its model is the BOM's, no second row comes back.
            let again = try await sleeper(["import", card])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try await db.count("SELECT count(*) FROM models WHERE key = 'acme-support-ft'") == 0)
            // A source naming the model by an alias fills what it lacks and adds to its lists; it
            // does not overwrite what the BOM said, whichever came last.
            #expect(!again.stdout.contains("changed model:acme/support-ft@2.1"), "\(again.stdout)")
            #expect(try await db.count("SELECT count(*) FROM models WHERE key = 'acme/support-ft@2.1' AND name = 'support-ft' AND supplier = 'Acme ML Platform' AND NOT third_party") == 1)
            // Its lists are the owning source's: once the BOM is read again, the model's lineage
            // is the BOM's, and stays so whichever of the two comes next.
            let bomAgain = try await sleeper(["import", bom])
            #expect(bomAgain.status == 0, "\(bomAgain.stderr)")
            #expect(!bomAgain.stdout.contains("changed model:acme/support-ft@2.1"), "\(bomAgain.stdout)")
            let lineage = "SELECT count(*) FROM derived_from d JOIN models m ON m.id = d.model_id JOIN models p ON p.id = d.parent_id WHERE m.key = 'acme/support-ft@2.1'"
            #expect(try await db.count(lineage) == 1)
            #expect(try await db.count(lineage + " AND p.key LIKE '%Llama-3-8B%' AND p.key NOT LIKE '%Instruct%'") == 1, "the BOM's own parent")
            #expect(try await sleeper(["import", card]).status == 0)
            #expect(try await db.count(lineage) == 1)
            let duplicates = try await sleeper(["inventory", "duplicates", "--format", "csv"])
            #expect(!duplicates.stdout.contains("acme-support-ft,"), "\(duplicates.stdout)")
            let audit = try await sleeper(["audit", "--format", "json"])
            #expect(audit.stdout.contains("acme-support-ft → acme/support-ft@2.1"), "\(audit.stdout.prefix(3000))")
        }
    }
}
