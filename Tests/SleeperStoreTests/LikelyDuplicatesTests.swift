import Foundation
import SleeperCore
import SleeperStore
import Testing

/// One entity per real thing: where sources name one model differently, `sleeper inventory
/// duplicates` lists the pair with the reason.
@Suite("Likely duplicate models", .timeLimit(.minutes(8)))
struct LikelyDuplicatesTests {
    @Test("a card's folder and a BOM's group/name@version are listed; two keys with one digest are one model; two versions of one model are not")
    func listed() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { _, url in
            let digest = "sha256:" + String(repeating: "9", count: 64)
            let hand = ExportStoreTests.scratchFile(
                "models.yaml",
                """
                models:
                  - {key: router-v1, digest: "\(digest)"}
                  - {key: intent-router, digest: "\(digest)"}
                  - {key: acme/support-ft@2.2, supplier: Acme ML Platform}
                """)
            let files = [
                SourceImportTests.fixtures.appending(path: "acme-ai-bom.cdx.json").path,
                SourceImportTests.fixtures.appending(path: "acme-support-ft/README.md").path, hand.path,
            ]
            let imported = try await Fixtures.sleeper(["import"] + files + ["--database-url", url], environment: env)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.contains("one model: model:router-v1 is model:intent-router (the same content digest \(digest))"), "\(imported.stdout)")
            let run = try await Fixtures.sleeper(["inventory", "duplicates", "--format", "csv", "--database-url", url], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            let rows = run.stdout.split(whereSeparator: \.isNewline).dropFirst().map(String.init)
            #expect(rows.contains { $0.hasPrefix("model:acme-support-ft,model:acme/support-ft@2.1,\"the same name once version") }, "\(rows)")
            #expect(!rows.contains { $0.contains("router-v1") }, "one model, not a pair to decide: \(rows)")
            #expect(!rows.contains { $0.contains("support-ft@2.1,model:acme/support-ft@2.2") }, "two versions are two models: \(rows)")
            #expect(rows.count == 2, "the card also matches version 2.2: \(rows)")
        }
    }
}
