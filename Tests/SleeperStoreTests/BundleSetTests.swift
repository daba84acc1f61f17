import Foundation
import SleeperCore
import SleeperStore
import Testing

/// One bundle holds several documents of one state, signed as one set; every document says what
/// it was made from.
@Suite("Signed bundles of several documents", .timeLimit(.minutes(8)))
struct BundleSetTests {
    @Test("exports and the report join one bundle with --add, re-signed as a set; a non-empty directory without --add and another state are refused")
    func severalDocuments() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let dir = try ExportStoreTests.scratch()
            let key = dir.appending(path: "signing.ed25519").path
            #expect(try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url]).status == 0)
            let bundle = dir.appending(path: "review").path
            let asOf = Timestamps.format(TestClock.now)
            func run(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--as-of", asOf, "--key", key, "--database-url", url]) }

            let first = try await run(["export", "oscal-ar", "--bundle", bundle])
            #expect(first.status == 0, "\(first.stderr)")
            // A second document without --add would break the first's signature: refused, nothing touched.
            let manifestBefore = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))
            let exportsAudited = try await db.count("SELECT count(*) FROM audit_log WHERE action LIKE 'export.%'")
            let refused = try await run(["export", "oscal-poam", "--bundle", bundle])
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action LIKE 'export.%'") == exportsAudited, "a refused export is not audited as made")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("is not empty: add to the bundle there with --add"), "\(refused.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json")) == manifestBefore)

            for args in [["export", "oscal-poam"], ["export", "oscal-mapping"], ["export", "csv"], ["export", "json"], ["report", "--what-if", "0"]] {
                let added = try await run(args + ["--bundle", bundle, "--add"])
                #expect(added.status == 0, "\(args): \(added.stderr)")
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: bundle).sorted()
            #expect(
                files == [
                    "assessment-results.json", "controls.csv", "controls.json", "evidence-manifest.json", "manifest.json",
                    "manifest.sig", "mapping.json", "poam.json", "report.md",
                ])
            let verified = try await Fixtures.sleeper(["verify-bundle", bundle, "--key", key + ".pub"])
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.contains("verifies: 7 files"), "\(verified.stdout)")

            // The manifest says what the set was made from.
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))) as? [String: Any])
            let made = try #require(manifest["made_from"] as? [String: Any])
            #expect(made["sleeper_version"] as? String == SleeperVersion.current)
            #expect(made["weights_version"] as? String == (try ScoreRuns.bundledWeights().version))
            #expect((made["ledger_head"] as? String)?.count == 64)
            #expect(made["score_run"] as? Int != nil)

            // Another state (another as-of) does not join the set.
            let other = try await Fixtures.sleeper([
                "export", "json", "--as-of", Timestamps.format(TestClock.now.addingTimeInterval(60)), "--bundle", bundle, "--add",
                "--key", key, "--database-url", url,
            ])
            #expect(other.status == 1)
            #expect(other.stderr.contains("the bundle describes another state"), "\(other.stderr)")
            // A bundle that no longer verifies is not re-signed.
            try Data("tampered\n".utf8).write(to: URL(fileURLWithPath: bundle + "/controls.csv"))
            let tampered = try await run(["export", "json", "--bundle", bundle, "--add"])
            #expect(tampered.status == 1)
            #expect(tampered.stderr.contains("does not verify under this key"), "\(tampered.stderr)")
        }
    }

    @Test("every export and the report name the tool version, the weights version, the ledger head and the run")
    func provenanceInDocuments() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let weights = try ScoreRuns.bundledWeights().version
            let json = try await Fixtures.sleeper(["export", "json", "--database-url", url])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["sleeper_version"] as? String == SleeperVersion.current)
            #expect(object["weights_version"] as? String == weights)
            #expect(object["score_run"] as? Int != nil)
            #expect((object["score_run_as_of"] as? String).flatMap(Timestamps.parse) != nil)
            #expect((object["ledger_head"] as? String)?.count == 64)
            let oscal = try await Fixtures.sleeper(["export", "oscal-ar", "--database-url", url])
            for name in ["sleeper-version", "weights-version", "ledger-head", "score-run", "score-run-as-of"] {
                #expect(oscal.stdout.contains("\"name\": \"\(name)\""), "\(name)")
            }
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url])
            #expect(report.stdout.contains("weights \(weights) · Sleeper \(SleeperVersion.current) · evidence ledger head"))
        }
    }
}
