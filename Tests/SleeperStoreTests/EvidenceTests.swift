import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

@Suite("Evidence ledger", .timeLimit(.minutes(8)))
struct EvidenceTests {
    static let day: TimeInterval = 86400

    /// One subject of each kind, so that every count below can be done by hand from the catalog's
    /// `applies_to`: 21 subject and control pairs in all.
    static let fixture = """
        datasets: [{key: d1, provenance: unknown}]
        models: [{key: m1, digest: "sha256:aaaa", trained_on: [d1]}]
        resources: [{key: r1, tier: 0}]
        credentials: [{key: c1, owner: team-a, grants: [{resource: r1, action: write}]}]
        agents: [{key: a1, owner: team-a, uses_models: [m1], holds: [{credential: c1, delivery: runtime_env}]}]
        """

    static func withFixture<T: Sendable>(_ body: (Database, EvidenceLedger) async throws -> T) async throws -> T {
        try await TestDatabase.withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            _ = try await InventoryImporter(db).importFiles([try Fixtures.parse(fixture)])
            return try await body(db, EvidenceLedger(db))
        }
    }

    static func draft(
        _ subject: String, _ control: String, _ result: EvidenceResult = .pass, effectiveDaysAgo: Double = 0,
        expires: Date? = nil, supersedes: Int? = nil, note: String? = nil
    ) -> EvidenceDraft {
        EvidenceDraft(
            subject: Subject(subject)!, control: control, result: result,
            effective: Date().addingTimeInterval(-effectiveDaysAgo * day), expires: expires, note: note, supersedes: supersedes)
    }

    @Test("records chain by hash, bind a model's digest, and default expiry to the control's validity")
    func recording() async throws {
        try await Self.withFixture { db, ledger in
            let first = try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE")])
            let second = try await ledger.record([Self.draft("credential:c1", "SLP-ROTATION", effectiveDaysAgo: 10)])
            #expect(first[0].id == 1 && second[0].id == 2)
            #expect(first[0].prevHash == EvidenceRecord.genesisHash)
            #expect(second[0].prevHash == first[0].hash)
            #expect(first[0].subjectDigest == "sha256:aaaa")
            #expect(second[0].subjectDigest == nil)
            #expect(first[0].expiresAt - first[0].effectiveAt == 90 * 86400)  // SLP-SIGNATURE: 90 days
            #expect(try await ledger.all() == first + second)
            #expect(EvidenceChain.verify(try await ledger.all()) == nil)
        }
    }

    @Test("a correction supersedes, a withdrawal takes back, and listings tell them apart")
    func superseding() async throws {
        try await Self.withFixture { db, ledger in
            _ = try await ledger.record([Self.draft("model:m1", "SLP-BACKDOOR-SCAN", .fail)])
            _ = try await ledger.record([Self.draft("model:m1", "SLP-BACKDOOR-SCAN", .pass, supersedes: 1, note: "rerun with fixed harness")])
            var gaps = try await EvidenceQueries(db).gaps(asOf: Date(), subject: Subject("model:m1"))
            #expect(!gaps.contains { $0.control == "SLP-BACKDOOR-SCAN" })
            _ = try await ledger.record([EvidenceDraft(subject: Subject("model:m1")!, control: "SLP-BACKDOOR-SCAN", result: .withdrawn, supersedes: 2)])
            gaps = try await EvidenceQueries(db).gaps(asOf: Date(), subject: Subject("model:m1"))
            #expect(gaps.first { $0.control == "SLP-BACKDOOR-SCAN" }?.status == .missing)
            await #expect(throws: InventoryProblems.self) {
                try await ledger.record([Self.draft("model:m1", "SLP-BACKDOOR-SCAN", supersedes: 1)])  // already superseded
            }
            await #expect(throws: InventoryProblems.self) {
                try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE", supersedes: 2)])  // other control
            }
            #expect(try await ledger.all().count == 3)
        }
    }

    @Test("bad evidence is refused with every problem named, and nothing is written")
    func validation() async throws {
        try await Self.withFixture { db, ledger in
            let drafts = [
                Self.draft("model:nope", "SLP-SIGNATURE"),
                Self.draft("credential:c1", "SLP-BACKDOOR-SCAN"),
                Self.draft("model:m1", "SLP-NOT-A-CONTROL"),
                Self.draft("model:m1", "SLP-AIBOM", effectiveDaysAgo: 10, expires: Date().addingTimeInterval(-20 * Self.day)),
                Self.draft("model:m1", "SLP-AIBOM", supersedes: 99),
            ]
            let error = await #expect(throws: InventoryProblems.self) { try await ledger.record(drafts) }
            let messages = error?.problems.map(\.message) ?? []
            #expect(messages.contains("unknown subject 'model:nope' (not in the inventory)"))
            #expect(messages.contains("SLP-BACKDOOR-SCAN does not apply to a credential (it applies to model)"))
            #expect(messages.contains("unknown control 'SLP-NOT-A-CONTROL' (see `sleeper controls`)"))
            #expect(messages.contains { $0.contains("is not after the effective date") })
            #expect(messages.contains("no evidence record 99"))
            let written = try await db.count("SELECT count(*) FROM evidence")
            #expect(written == 0)
        }
    }

    @Test("the table refuses UPDATE, DELETE and TRUNCATE")
    func appendOnly() async throws {
        try await Self.withFixture { db, ledger in
            _ = try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE")])
            for sql in ["UPDATE evidence SET note = 'x'", "DELETE FROM evidence", "TRUNCATE evidence"] {
                await #expect(throws: (any Error).self) { try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: db.logger) }
            }
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE note IS NULL") == 1)
        }
    }

    /// Four records, then the append-only trigger is switched off (as someone with the owner's
    /// rights could) so that the test can tamper the way an attacker would.
    func tampered(_ sql: [String]) async throws -> EvidenceChain.Break? {
        try await Self.withFixture { db, ledger in
            for control in ["SLP-SIGNATURE", "SLP-AIBOM", "SLP-BACKDOOR-SCAN", "SLP-PROVENANCE"] {
                _ = try await ledger.record([Self.draft("model:m1", control)])
            }
            #expect(EvidenceChain.verify(try await ledger.all()) == nil)
            try await db.client.query("ALTER TABLE evidence DISABLE TRIGGER evidence_append_only", logger: db.logger)
            for statement in sql { try await db.client.query(PostgresQuery(unsafeSQL: statement), logger: db.logger) }
            return EvidenceChain.verify(try await ledger.all())
        }
    }

    @Test("an edited row is caught, by id")
    func editCaught() async throws {
        let broken = try await tampered(["UPDATE evidence SET result = 'pass', note = 'looks fine' WHERE id = 2"])
        #expect(broken?.id == 2)
        #expect(broken?.reason.contains("does not match its hash") == true)
    }

    @Test("an edited row whose hash was recomputed is caught at the next record")
    func editWithRehashCaught() async throws {
        let broken = try await tampered([
            "UPDATE evidence SET hash = repeat('a', 64) WHERE id = 3"
        ])
        #expect(broken?.id == 3)
        let next = try await tampered([
            "UPDATE evidence SET prev_hash = repeat('b', 64), hash = repeat('c', 64) WHERE id = 4"
        ])
        #expect(next?.id == 4)
    }

    @Test("a deleted row is caught, by id")
    func deleteCaught() async throws {
        let broken = try await tampered(["DELETE FROM evidence WHERE id = 3"])
        #expect(broken?.id == 3)
        #expect(broken?.reason == "is missing (deleted); the chain continues at 4")
    }

    @Test("reordered rows are caught, by id")
    func reorderCaught() async throws {
        let broken = try await tampered([
            "ALTER TABLE evidence DROP CONSTRAINT evidence_check1",
            "UPDATE evidence SET id = 1000 WHERE id = 2",
            "UPDATE evidence SET id = 2 WHERE id = 3",
            "UPDATE evidence SET id = 3 WHERE id = 1000",
        ])
        #expect(broken?.id == 2)
    }

    @Test("sleeper verify exits 1 and names the record")
    func verifyCommand() async throws {
        try await Self.withFixture { db, ledger in
            _ = try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE"), Self.draft("model:m1", "SLP-AIBOM")])
            let url = TestDatabase.url(for: db.settings)
            let good = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(good.status == 0)
            #expect(good.stdout.contains("the evidence ledger verifies: 2 records"))
            try await db.client.query("ALTER TABLE evidence DISABLE TRIGGER evidence_append_only", logger: db.logger)
            try await db.client.query("UPDATE evidence SET recorded_by = 'someone else' WHERE id = 1", logger: db.logger)
            let bad = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("evidence record 1: its content does not match its hash"))
        }
    }

    @Test("gaps and coverage, hand-counted, now, at two later dates, and before anything was recorded")
    func gapsAndCoverageOverTime() async throws {
        try await Self.withFixture { db, ledger in
            let now = Date()
            _ = try await ledger.record([
                Self.draft("model:m1", "SLP-SIGNATURE", effectiveDaysAgo: 10, expires: now.addingTimeInterval(60 * Self.day)),
                Self.draft("model:m1", "SLP-BACKDOOR-SCAN", effectiveDaysAgo: 5),  // 90-day validity: expires now+85
                Self.draft("credential:c1", "SLP-ROTATION", effectiveDaysAgo: 80),  // 90-day validity: expires now+10
                Self.draft("agent:a1", "SLP-LEAST-PRIVILEGE"),  // 180 days
            ])
            // Questions are asked just after the records were made: the ledger's recorded time is
            // the server's clock, in whole seconds, and may lie a second past `now` above.
            let recorded = Date().addingTimeInterval(2)
            let q = EvidenceQueries(db)
            func gapCount(_ offsetDays: Double) async throws -> Int { try await q.gaps(asOf: recorded.addingTimeInterval(offsetDays * Self.day)).count }
            #expect(try await gapCount(-1) == 21)  // nothing recorded yet
            #expect(try await gapCount(0) == 17)  // 21 pairs - 4 valid
            #expect(try await gapCount(30) == 18)  // rotation expired, in its grace period
            #expect(try await gapCount(120) == 20)  // only least privilege still valid
            let at30 = try await q.gaps(asOf: recorded.addingTimeInterval(30 * Self.day), subject: Subject("credential:c1"))
            #expect(at30.first { $0.control == "SLP-ROTATION" }?.status == .expiredInGrace)
            let at120 = try await q.gaps(asOf: recorded.addingTimeInterval(120 * Self.day), subject: Subject("model:m1"))
            #expect(at120.first { $0.control == "SLP-SIGNATURE" }?.status == .expired)

            func nhi(_ offsetDays: Double) async throws -> [String: String] {
                let rows = try await q.coverage(framework: "owasp-nhi", asOf: recorded.addingTimeInterval(offsetDays * Self.day))
                return Dictionary(uniqueKeysWithValues: rows.map { ($0.item, "\($0.covered)/\($0.applicable)") })
            }
            #expect(
                try await nhi(0) == [
                    "NHI1": "0/1", "NHI2": "1/1", "NHI3": "1/2", "NHI4": "0/0", "NHI5": "1/2",
                    "NHI6": "0/1", "NHI7": "1/1", "NHI8": "0/1", "NHI9": "1/2", "NHI10": "0/1",
                ])
            #expect(
                try await nhi(30) == [
                    "NHI1": "0/1", "NHI2": "0/1", "NHI3": "1/2", "NHI4": "0/0", "NHI5": "1/2",
                    "NHI6": "0/1", "NHI7": "0/1", "NHI8": "0/1", "NHI9": "1/2", "NHI10": "0/1",
                ])

            // The A2 alias counts through ASI04, ASI06 and ASI10.
            let agentic = try await q.coverage(framework: "owasp-agentic", asOf: recorded)
            let a2 = try #require(agentic.first { $0.item == "A2" })
            #expect(a2.isAlias)
            #expect(a2.applicable == 3)  // m1, d1 (data screening), a1 (segmentation, HITL, incident response)
            #expect(a2.covered == 1)  // m1 through its signature and scan

            // Grouped by framework item: every gap row names an item of that framework.
            let grouped = try await q.gaps(asOf: recorded, framework: "nist-ai-rmf")
            #expect(grouped.allSatisfy { !$0.items.isEmpty && $0.items.allSatisfy { $0.hasPrefix("nist-ai-rmf:") } })
        }
    }

    @Test("evidence about a model stops counting when its digest changes")
    func digestBinding() async throws {
        try await Self.withFixture { db, ledger in
            _ = try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE"), Self.draft("model:m1", "SLP-BACKDOOR-SCAN")])
            let before = Date()
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await InventoryImporter(db).importFiles([try Fixtures.parse(Self.fixture.replacingOccurrences(of: "sha256:aaaa", with: "sha256:bbbb"))])
            let q = EvidenceQueries(db)
            let now = try await q.gaps(asOf: Date(), subject: Subject("model:m1"))
            #expect(now.filter { $0.status == .staleDigest }.map(\.control).sorted() == ["SLP-BACKDOOR-SCAN", "SLP-SIGNATURE"])
            // As of before the new digest, the evidence still stood.
            let earlier = try await q.gaps(asOf: before, subject: Subject("model:m1"))
            #expect(!earlier.contains { $0.control == "SLP-SIGNATURE" })
            // New evidence on the new digest counts again.
            _ = try await ledger.record([Self.draft("model:m1", "SLP-SIGNATURE")])
            #expect(try await !q.gaps(asOf: Date(), subject: Subject("model:m1")).contains { $0.control == "SLP-SIGNATURE" })
        }
    }

    @Test("evidence import is all-or-nothing with located errors; artifacts are hashed, not stored")
    func importFile() async throws {
        try await Self.withFixture { db, ledger in
            let url = TestDatabase.url(for: db.settings)
            let dir = FileManager.default.temporaryDirectory.appending(path: "ev-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data("backdoor scan: no trigger found\n".utf8).write(to: dir.appending(path: "scan.txt"))
            try Data(
                """
                - {subject: "model:m1", control: SLP-BACKDOOR-SCAN, result: pass, effective: \(TestClock.daysFromToday(-20)), artifacts: [scan.txt], by: ml-sec}
                - {subject: "agent:a1", control: SLP-HITL, result: pass}
                """.utf8
            ).write(to: dir.appending(path: "good.yaml"))
            try Data(
                """
                - {subject: "model:m1", control: SLP-AIBOM, result: pass}
                - {subject: "agent:a1", control: SLP-HITL, result: maybe}
                - {subject: "model:m1", control: SLP-SIGNATURE, result: pass, artifacts: [missing.pdf]}
                - {subject: "robot:r2", control: SLP-HITL, result: pass}
                """.utf8
            ).write(to: dir.appending(path: "bad.yaml"))
            let bad = try await Fixtures.sleeper(["evidence", "import", dir.appending(path: "bad.yaml").path, "--database-url", url])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("bad.yaml: [1].result: 'maybe' is not one of: pass, fail, not-applicable, withdrawn"))
            #expect(bad.stderr.contains("bad.yaml: [2].artifacts[0]: cannot read artifact 'missing.pdf'"))
            #expect(bad.stderr.contains("bad.yaml: [3].subject: 'robot:r2' is not KIND:KEY"))
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)
            let good = try await Fixtures.sleeper(["evidence", "import", dir.appending(path: "good.yaml").path, "--database-url", url])
            #expect(good.status == 0, "\(good.stderr)")
            let records = try await ledger.all()
            #expect(records.count == 2)
            #expect(records[0].artifacts == [Artifact.of(name: "scan.txt", data: Data("backdoor scan: no trigger found\n".utf8))])
            #expect(records[0].recordedBy == "ml-sec")
            let history = try await Fixtures.sleeper(["evidence", "history", "model:m1", "--format", "csv", "--database-url", url])
            #expect(history.stdout.contains("scan.txt sha256:"))
        }
    }
}
