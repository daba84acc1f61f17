import Foundation
import PostgresNIO
import SleeperCore

/// Reads what exports and reports need at one as-of time: the catalog, every control status,
/// the records deciding them, and the critical and high exposures of the latest run by then.
public struct ComplianceSnapshotLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Refuses (`StoreError.unverifiedLedger`) when the ledgers do not verify, unless
    /// `allowUnverified`: then the snapshot carries the problems, and every document made from
    /// it says so.
    ///
    /// `countingUnrecorded`: subjects nothing is recorded of are counted per kind instead of
    /// listed (`ComplianceSnapshot.unlisted`), for answers that need counts, such as the review
    /// report; exports list every status and take the full snapshot.
    /// `keepingUnrecordedKeys`: with `countingUnrecorded`, also the keys and owners of those
    /// subjects (`ComplianceSnapshot.unlistedSubjects`), for an export that lists every row.
    public func load(
        asOf: Date, allowUnverified: Bool = false, basis: EvidenceBasis = .recorded,
        countingUnrecorded: Bool = false, keepingUnrecordedKeys: Bool = false,
        withExposures: Bool = true
    ) async throws -> ComplianceSnapshot {
        async let catalog = CatalogQueries(db).catalog()
        // Five of each kind are listed all the same: the first gaps an item shows as examples
        // are then the same as in the full snapshot.
        async let statuses = EvidenceQueries(db).statuses(asOf: asOf, basis: basis, onlyRecordedAndFirst: countingUnrecorded ? 5 : nil)
        async let head = EvidenceLedger(db).head(asOf: asOf)
        let runs = ScoreRuns(db)
        let runID = try await runs.runID(atOrBefore: asOf)
        var exposures: [Exposure] = []
        if let runID, withExposures {
            for band in [Band.critical, .high] {
                exposures += try await runs.exposures(run: runID, top: nil, band: band, minScore: nil, owner: nil, resource: nil)
            }
        }
        let rows = try await statuses
        PhaseTiming.report("snapshot: \(rows.count) statuses, \(exposures.count) exposures")
        let ids = Array(Set(rows.compactMap(\.evidenceID))).sorted()
        let records = ids.isEmpty ? [] : try await EvidenceLedger(db).all(ids: ids)
        // The whole chain is re-hashed: the answer rests on every record in force and the history behind them.
        let check = try await LedgerVerifier(db).verify()
        if !check.verified && !allowUnverified { throw StoreError.unverifiedLedger(check.problems) }
        var snapshot = ComplianceSnapshot(
            asOf: asOf, catalog: try await catalog, statuses: rows,
            evidence: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) }),
            runID: runID, exposures: exposures, ledgerHead: try await head)
        PhaseTiming.report("snapshot: ledger verified")
        snapshot.ledgerProblems = check.problems
        snapshot.weightsVersion = try ScoreRuns.bundledWeights().version
        snapshot.basis = basis
        snapshot.actions = try await RemediationActions(db).list(asOf: asOf)
        snapshot.acceptances = try await RiskAcceptances(db).standing(asOf: asOf)
        if let runID { snapshot.runAsOf = try await runs.citation(of: runID)?.asOf }
        if countingUnrecorded { try await countUnrecorded(in: &snapshot, keepingKeys: keepingUnrecordedKeys) }
        return snapshot
    }

    /// Fills `unlisted` (subjects per kind not in the statuses) and `ownerless` (how many have no
    /// owner, and those that come first in the report's order: the critical and high exposures
    /// without an owner, then the rest by kind and key).
    private func countUnrecorded(in snapshot: inout ComplianceSnapshot, keepingKeys: Bool) async throws {
        var listed: [SubjectKind: Set<String>] = [:]
        for s in snapshot.statuses { listed[s.subject.kind, default: []].insert(s.subject.key) }
        let exposedOwnerless = snapshot.exposures.filter { $0.owner == nil }.count
        var first: [Subject] = [], seen = Set<Subject>(), ownerless = 0
        for s in snapshot.statuses where s.owner == nil && seen.insert(s.subject).inserted { first.append(s.subject) }
        for e in snapshot.exposures where e.owner == nil {
            let s = Subject(kind: .credential, key: e.credential)
            if seen.insert(s).inserted { first.append(s) }
        }
        for (kind, table) in EvidenceStatusSQL.subjectTables {
            // Enough of each kind that the first fifty after the exposures are among them.
            let limit = 50 + (kind == .credential ? exposedOwnerless : 0)
            let sql = PostgresQuery(
                unsafeSQL: """
                    SELECT (SELECT count(*) FROM \(table))::int8, (SELECT count(*) FROM \(table) WHERE owner IS NULL)::int8,
                           (SELECT array_agg(key) FROM (SELECT key FROM \(table) WHERE owner IS NULL ORDER BY key LIMIT \(limit)) f)
                    """)
            for try await (total, none, keys) in try await db.client.query(sql, logger: db.logger).decode((Int, Int, [String]?).self) {
                snapshot.unlisted[kind] = total - (listed[kind]?.count ?? 0)
                ownerless += none
                for key in keys ?? [] where seen.insert(Subject(kind: kind, key: key)).inserted { first.append(Subject(kind: kind, key: key)) }
            }
        }
        snapshot.ownerless = (ownerless, first)
        guard keepingKeys else { return }
        // Each column as one array in PostgreSQL's binary format: a million keys decoded row by
        // row cost seconds.
        for (kind, table) in EvidenceStatusSQL.subjectTables {
            let sql = PostgresQuery(
                unsafeSQL: """
                    SELECT array_agg(key ORDER BY key), array_agg(owner ORDER BY key) FROM \(table)
                    WHERE key NOT IN (\(EvidenceStatusSQL.recorded(kind)))
                    """)
            for try await row in try await db.client.query(sql, logger: db.logger) {
                let cells = Array(row).map { BinaryArray($0.bytes) }
                guard cells.count == 2, let keys = try cells[0]?.strings(), let owners = try cells[1]?.strings() else { continue }
                let shown = listed[kind] ?? []
                var kept: ([String], [String?]) = ([], [])
                kept.0.reserveCapacity(keys.count); kept.1.reserveCapacity(keys.count)
                for (key, owner) in zip(keys, owners) { if let key, !shown.contains(key) { kept.0.append(key); kept.1.append(owner) } }
                snapshot.unlistedSubjects[kind] = (kept.0, kept.1)
            }
        }
    }
}
