import Foundation
import PostgresNIO
import SleeperCore

/// The changes that move scores — recording evidence, withdrawing it, importing inventory — each
/// written in one transaction and then rescored. The command line and the API both call these;
/// nothing else composes a write with a rescore.
///
/// A rescore that fails never undoes or hides the committed write: the answer carries the write
/// and the rescore's error, and the next rescore (or `sleeper score`) brings the scores up to date.
public struct ScoredChanges: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// What happened to the scores after a committed change.
    public enum Rescore: Sendable {
        case done(IncrementalRescore.Outcome)
        case failed(String)

        public var summary: String {
            switch self {
            case .done(let outcome): return outcome.summary
            case .failed(let error): return "the change is committed, but rescoring failed (\(error)); run `sleeper score` to bring the scores up to date"
            }
        }

        public var failed: Bool { if case .failed = self { return true } else { return false } }
    }

    /// Appends evidence (all or nothing), closes the remediation actions it proves done, and
    /// rescores what lies downstream of its subjects.
    public func recordEvidence(_ drafts: [EvidenceDraft], actor: String, asOf: Date = SleeperClock.now()) async throws -> (records: [EvidenceRecord], rescore: Rescore) {
        guard !drafts.isEmpty else { throw StoreError.invalidInput("no evidence records to record") }
        let ledger = EvidenceLedger(db)
        let controls = try await ledger.controlsByID()
        let (records, debt) = try await db.transaction { tx in
            let records = try await ledger.append(drafts, controls: controls, actor: actor, on: tx)
            return (records, try await owe(Self.owedAfter(records, actor: actor, asOf: asOf), on: tx))
        }
        await closeActions()
        return (records, await settling(debt, actor: actor))
    }

    /// What new evidence is owed: a rescore of what lies downstream of its subjects, as of the
    /// records' own time when that is later than `asOf`.
    static func owedAfter(_ records: [EvidenceRecord], actor: String, asOf: Date) -> OwedRescore {
        let ids = records.map(\.id)
        let (first, last) = (ids.min() ?? 0, ids.max() ?? 0)
        return OwedRescore(
            trigger: first == last ? "evidence #\(first)" : "evidence #\(first)–#\(last)", actor: actor,
            asOf: rescoreTime(asOf, records), subjects: records.map(\.subject))
    }

    /// Records, on the change's own transaction, the rescore it is owed.
    func owe(_ owed: OwedRescore, on tx: PostgresConnection) async throws -> Int64 {
        try await RescoreDebts.owe(owed, on: tx, logger: db.logger)
    }

    /// Settles a committed change's debt (with any others open); its failure leaves it owed.
    func settling(_ debt: Int64, actor: String) async -> Rescore {
        await rescoring { try await IncrementalRescore(db).settle(debt, actor: actor) }
    }

    /// A rescore after new evidence is as of `asOf`, or as of the records' own recorded time when
    /// that is later: the ledger stamps records with its clock in whole seconds, and a rescore
    /// as of a moment before they were recorded would not see them (a long read crosses a second).
    static func rescoreTime(_ asOf: Date, _ records: [EvidenceRecord]) -> Date {
        max(asOf, Date(timeIntervalSince1970: TimeInterval(records.map(\.recordedAt).max() ?? 0)))
    }

    /// Closes the actions a committed change proves done. Its failure leaves them open until the
    /// next change (the write stands); it is logged, never hidden.
    func closeActions() async {
        do { try await RemediationActions(db).closeSatisfied() } catch {
            db.logger.error("closing remediation actions after a committed change failed: \(StoreError.describe(error))")
        }
    }

    /// Withdraws a record: a new record that supersedes it without a result.
    public func withdrawEvidence(id: Int, by: String?, note: String?, actor: String, asOf: Date = SleeperClock.now()) async throws -> (records: [EvidenceRecord], rescore: Rescore) {
        guard let target = try await EvidenceLedger(db).all(id: id).first else { throw StoreError.invalidInput("no evidence record \(id)") }
        return try await recordEvidence(
            [
                EvidenceDraft(
                    subject: target.subject, control: target.control, result: .withdrawn,
                    recordedBy: by, note: note, supersedes: id)
            ], actor: actor, asOf: asOf)
    }

    /// Imports inventory files in one transaction and rescores what they reached: downstream of
    /// every entity in the files, before the import (edges it removed) and after it (edges it added).
    /// A dry run, or an import that changed nothing, is not rescored.
    public func importInventory(
        _ files: [ParsedInventory], dryRun: Bool = false, removals: RemovalGuard = RemovalGuard(), actor: String,
        asOf: Date = SleeperClock.now()
    ) async throws -> (summary: ImportSummary, rescore: Rescore?) {
        let rescorer = IncrementalRescore(db)
        let importer = InventoryImporter(db)
        var subjects: [Subject] = [], resources: [String] = []
        for f in files {
            subjects +=
                f.inventory.models.map { Subject(kind: .model, key: $0.key) } + f.inventory.datasets.map { Subject(kind: .dataset, key: $0.key) }
                + f.inventory.agents.map { Subject(kind: .agent, key: $0.key) } + f.inventory.credentials.map { Subject(kind: .credential, key: $0.key) }
            resources += f.inventory.resources.map(\.key)
        }
        let trigger = "import \(files.map(\.file).joined(separator: ", "))"
        // Too large to trace: every credential counts as reached, which makes a full run.
        let traced = subjects.count + resources.count <= IncrementalRescore.largestIncrementalImport
        let before = traced && !dryRun ? try await rescorer.reach(of: subjects, resources: resources) : IncrementalRescore.Reach()
        // What a source removed is gone from the tables the reach is traced through, and an import
        // too large to trace reaches everything: a full run then, so that nothing removed is carried forward.
        let ledger = EvidenceLedger(db)
        let controls = try await ledger.controlsByID()
        var (summary, then) = try await importer.importFiles(files, dryRun: dryRun, removals: removals, actor: actor) { summary, tx -> (Int64?, [EvidenceRecord]) in
            guard !summary.dryRun else { return (nil, []) }
            // A secret written into a file as it is must be rotated: a failed SLP-ROTATION of its
            // credential, once (not again while the last word on it is that fail).
            let drafts = try await Self.literalSecretDrafts(summary.literalSecrets, on: tx, logger: db.logger)
            let records = drafts.isEmpty ? [] : try await ledger.append(drafts, controls: controls, actor: actor, on: tx)
            guard summary.changedAnything || !records.isEmpty else { return (nil, records) }
            let debt = try await owe(
                OwedRescore(
                    trigger: trigger, actor: actor, asOf: asOf, subjects: traced ? subjects : [], resources: traced ? resources : [],
                    before: before, fullRun: !traced || summary.removedEntities > 0 || !summary.merges.isEmpty), on: tx)
            return (debt, records)
        }
        for r in then?.1 ?? [] {
            summary.findings.append("recorded evidence \(r.id): fail for \(r.control) on \(r.subject) (a secret written into the file; rotate it)")
        }
        guard let debt = then?.0 else { return (summary, nil) }
        await closeActions()
        return (summary, await settling(debt, actor: actor))
    }

    /// A failed SLP-ROTATION for each literal secret whose credential's last SLP-ROTATION record
    /// is not already a fail.
    static func literalSecretDrafts(_ secrets: [SourceOrigin.LiteralSecret], on tx: PostgresConnection, logger: Logger) async throws -> [EvidenceDraft] {
        guard !secrets.isEmpty else { return [] }
        var failing: Set<String> = []
        for try await key in try await tx.query(
            """
            SELECT subject_key FROM (
                SELECT DISTINCT ON (subject_key) subject_key, result FROM evidence
                WHERE subject_kind = 'credential' AND control_id = 'SLP-ROTATION' AND subject_key = ANY(\(secrets.map(\.credential)))
                ORDER BY subject_key, id DESC) last
            WHERE result = 'fail'
            """, logger: logger
        ).decode(String.self) { failing.insert(key) }
        var seen: Set<String> = []
        return secrets.filter { !failing.contains($0.credential) && seen.insert($0.credential).inserted }.map { s in
            let subject = Subject(kind: .credential, key: s.credential)
            return EvidenceDraft(
                subject: subject, control: "SLP-ROTATION", result: .fail, recordedBy: "sleeper import",
                note: "a secret was written into a file as it is (the value is not stored): anyone who reads the file holds it; rotate it, and reference it as ${VAR}. At \(s.location)",
                file: s.location)
        }
    }

    /// Runs a rescore after a committed write; its failure becomes part of the answer.
    func rescoring(_ body: () async throws -> IncrementalRescore.Outcome) async -> Rescore {
        do { return .done(try await body()) } catch {
            db.logger.error("rescore after a committed change failed: \(StoreError.describe(error))")
            return .failed(StoreError.describe(error))
        }
    }
}
