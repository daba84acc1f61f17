import Foundation
import PostgresNIO
import SleeperCore

extension ScoredChanges {
    /// Sleeper's own model scan recorded as evidence: the report goes through the same reading,
    /// rule and binding as any scanner's (`ingestReport`), bound to the digest the scan computed,
    /// so that the ledger refuses it when the inventory names other bytes.
    public func recordModelScan(
        _ report: ModelScanReport, subject: Subject, rules: ReportRules, recordStale: Bool = false,
        by: String?, actor: String, asOf: Date = SleeperClock.now()
    ) async throws -> IngestedReport {
        let context = ReportContext(
            subject: subject, tested: .digest(report.digest, how: "computed by the scan of \(report.files.count) file(s)"),
            fileArtifacts: report.files.prefix(100).map { Artifact(name: $0.path, sha256: $0.sha256, size: $0.size) },
            recordStale: recordStale, fallback: (asOf, "the time of the scan"), by: by ?? "sleeper scan model")
        return try await ingestReport(
            report.json(), file: "sleeper-scan-model.json", format: .sleeperModelScan, rules: rules,
            context: context, actor: actor, asOf: asOf)
    }
}

extension ScoredChanges {
    /// A dataset scan recorded: what was written, and the models it did not reach (with why).
    public struct RecordedDatasetScan: Sendable {
        public var records: [EvidenceRecord]
        public var notPropagated: [(model: String, why: String)]
        public var rescore: Rescore
    }

    /// Sleeper's training-data scan as evidence of the dataset and, through `trained_on`, of the
    /// models trained on it, in one append: a fail reaches every such model (poisoned data
    /// taints what learned from it); a pass reaches a model only when each of its other training
    /// datasets has a valid screen as well, since one clean dataset does not make its data clean.
    public func recordDatasetScan(
        _ report: DatasetScanReport, subject: Subject, control: String, by: String?, actor: String,
        asOf: Date = SleeperClock.now()
    ) async throws -> RecordedDatasetScan {
        guard subject.kind == .dataset else { throw StoreError.invalidInput("a dataset scan is evidence of a dataset, not a \(subject.kind.rawValue)") }
        let json = report.json()
        let effective = Timestamps.parse(report.scannedAt) ?? asOf
        let artifacts =
            [Artifact.of(name: "sleeper-scan-dataset.json", data: json)]
            + report.files.prefix(100).map { Artifact(name: URL(fileURLWithPath: $0.path).lastPathComponent, sha256: $0.sha256, size: $0.size) }
        var summary =
            "sleeper scan dataset \(report.sleeperVersion): \(report.rows) row(s) in \(report.files.count) file(s)"
            + " (\(report.files.map { "\(URL(fileURLWithPath: $0.path).lastPathComponent) sha256:\($0.sha256)" }.joined(separator: ", ")))"
        summary +=
            report.candidates.isEmpty
            ? "; no candidate trigger cleared the thresholds"
            : "; \(report.candidates.count) candidate trigger(s): "
                + report.candidates.prefix(5).map {
                    "#\($0.rank) \"\($0.trigger)\" → \"\($0.predicts)\" (support \($0.support), confidence \($0.confidence), lift \($0.lift), rows \($0.examples.prefix(3).joined(separator: " ")))"
                }.joined(separator: "; ")
        let t = report.thresholds
        summary +=
            " · Rule: fails when a candidate has support ≥ \(t.minSupport) and ≤ \(t.maxShare) of rows, confidence ≥ \(t.minConfidence), lift ≥ \(t.minLift), spread ≥ \(t.minSpread) (report-rules.yaml sleeper-dataset-scan)"
        func draft(_ s: Subject, note: String) -> EvidenceDraft {
            var n = note
            if n.count > 4000 { n = String(n.prefix(3999)) + "…" }
            return EvidenceDraft(
                subject: s, control: control, result: report.result, effective: effective, artifacts: artifacts,
                recordedBy: by ?? "sleeper scan dataset", note: n, file: "sleeper-scan-dataset.json")
        }
        var drafts = [draft(subject, note: summary)]
        var skipped: [(String, String)] = []
        for (model, othersValid) in try await modelsTrained(on: subject.key, control: control, asOf: asOf) {
            let m = Subject(kind: .model, key: model)
            if report.result == .fail || othersValid {
                drafts.append(draft(m, note: "Through trained_on: dataset \(subject.key). " + summary))
            } else {
                skipped.append((model, "its other training datasets do not all have a valid \(control)"))
            }
        }
        let (records, rescore) = try await recordEvidence(drafts, actor: actor, asOf: asOf)
        return RecordedDatasetScan(records: records, notPropagated: skipped, rescore: rescore)
    }

    /// The models trained on dataset `key`, each with whether every other dataset it was trained
    /// on has evidence of `control` in force at `asOf` (by its effective dates, as scores read it).
    func modelsTrained(on key: String, control: String, asOf: Date) async throws -> [(String, Bool)] {
        let others: SQLFragment = """
            SELECT 'dataset'::text AS kind, d.key, d.owner FROM datasets d
            WHERE d.key <> \(key) AND d.id IN (SELECT t2.dataset_id FROM trained_on t2 JOIN trained_on t1 ON t1.model_id = t2.model_id
                                          JOIN datasets x ON x.id = t1.dataset_id WHERE x.key = \(key))
            """
        let sql: SQLFragment = """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: others, asOf: asOf, basis: .effective))
            SELECT m.key, NOT EXISTS (
                SELECT 1 FROM trained_on t2 JOIN datasets d2 ON d2.id = t2.dataset_id
                WHERE t2.model_id = m.id AND d2.key <> \(key)
                  AND NOT EXISTS (SELECT 1 FROM status s WHERE s.kind = 'dataset' AND s.key = d2.key AND s.control_id = \(control) AND s.status = 'valid'))
            FROM trained_on t JOIN datasets d ON d.id = t.dataset_id JOIN models m ON m.id = t.model_id
            WHERE d.key = \(key)
            ORDER BY m.key
            """
        var out: [(String, Bool)] = []
        for try await (model, valid) in try await db.client.query(sql.query, logger: db.logger).decode((String, Bool).self) { out.append((model, valid)) }
        return out
    }
}
