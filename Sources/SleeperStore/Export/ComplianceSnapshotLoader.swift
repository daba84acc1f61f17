import Foundation
import SleeperCore

/// Reads what exports and reports need at one as-of time: the catalog, every control status,
/// the records deciding them, and the critical and high exposures of the latest run by then.
public struct ComplianceSnapshotLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Refuses (`StoreError.unverifiedLedger`) when the ledgers do not verify, unless
    /// `allowUnverified`: then the snapshot carries the problems, and every document made from
    /// it says so.
    public func load(asOf: Date, allowUnverified: Bool = false, basis: EvidenceBasis = .recorded) async throws -> ComplianceSnapshot {
        async let catalog = CatalogQueries(db).catalog()
        async let statuses = EvidenceQueries(db).statuses(asOf: asOf, basis: basis)
        async let head = EvidenceLedger(db).head(asOf: asOf)
        let runs = ScoreRuns(db)
        let runID = try await runs.runID(atOrBefore: asOf)
        var exposures: [Exposure] = []
        if let runID {
            for band in ["critical", "high"] {
                exposures += try await runs.exposures(run: runID, top: nil, band: band, minScore: nil, owner: nil, resource: nil)
            }
        }
        let rows = try await statuses
        let ids = Array(Set(rows.compactMap(\.evidenceID))).sorted()
        let records = ids.isEmpty ? [] : try await EvidenceLedger(db).all(ids: ids)
        // Every record the answer rests on is re-hashed, and the chain checked since its last verified head.
        let check = try await LedgerVerifier(db).verify(full: false, cited: ids)
        if !check.verified && !allowUnverified { throw StoreError.unverifiedLedger(check.problems) }
        var snapshot = ComplianceSnapshot(asOf: asOf, catalog: try await catalog, statuses: rows,
                                          evidence: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) }),
                                          runID: runID, exposures: exposures, ledgerHead: try await head)
        snapshot.ledgerProblems = check.problems
        snapshot.weightsVersion = try ScoreRuns.bundledWeights().version
        snapshot.basis = basis
        snapshot.actions = try await RemediationActions(db).list(asOf: asOf)
        snapshot.acceptances = try await RiskAcceptances(db).standing(asOf: asOf)
        if let runID { snapshot.runAsOf = try await runs.citation(of: runID)?.asOf }
        return snapshot
    }
}
