import Foundation

/// Everything an export or a report says, read from the store at one as-of time. The renderers
/// are pure functions of it, so the same state and as-of give the same bytes.
public struct ComplianceSnapshot: Sendable {
    public var asOf: Date
    public var catalog: Catalog
    /// Every subject × applicable control (valid ones included).
    public var statuses: [ControlStatus]
    /// The records that decide a status at `asOf`, by id.
    public var evidence: [Int: EvidenceRecord]
    /// The scoring run the exposures come from (the latest at or before `asOf`), if any.
    public var runID: Int?
    /// Critical and high exposures of that run, worst first.
    public var exposures: [Exposure]
    /// The head of the evidence hash chain, which pins the ledger the export was made from.
    public var ledgerHead: String

    public init(asOf: Date, catalog: Catalog, statuses: [ControlStatus], evidence: [Int: EvidenceRecord],
                runID: Int?, exposures: [Exposure], ledgerHead: String) {
        self.asOf = asOf
        self.catalog = catalog
        self.statuses = statuses
        self.evidence = evidence
        self.runID = runID
        self.exposures = exposures
        self.ledgerHead = ledgerHead
    }

    /// One framework item judged over the estate: satisfied when every subject that a mapped
    /// control applies to has valid evidence of at least one of them (the rule `coverage` uses).
    public struct ItemAssessment: Sendable {
        public var framework: Framework
        public var item: FrameworkItem
        public var controls: [String]
        public var applicable: Int
        public var covered: Int
        /// The evidence records deciding the statuses of the mapped controls (passes and failures).
        public var evidenceIDs: [Int]
        /// Statuses of mapped controls that are not valid, for subjects not otherwise covered.
        public var openGaps: [ControlStatus]
        public var satisfied: Bool { applicable > 0 && covered == applicable }
    }

    /// The items of `framework` that some control maps to, in catalog order.
    public func assessments(framework: Framework) -> [ItemAssessment] {
        let byControl = Dictionary(grouping: statuses, by: \.control)
        let mapped = catalog.mappings.filter { $0.framework == framework.id && $0.relationship != .noRelationship }
        return framework.items.compactMap { item in
            let targets = Set(item.isAlias ? item.aliasOf : [item.id])
            let controls = catalog.controls.map(\.id).filter { c in mapped.contains { $0.control == c && targets.contains($0.item) } }
            guard !controls.isEmpty else { return nil }
            var perSubject: [Subject: [ControlStatus]] = [:]
            for c in controls { for s in byControl[c] ?? [] { perSubject[s.subject, default: []].append(s) } }
            var covered = 0, evidence = Set<Int>(), gaps: [ControlStatus] = []
            for (_, rows) in perSubject {
                let valid = rows.filter(\.isValid)
                if valid.isEmpty { gaps += rows } else { covered += 1 }
                evidence.formUnion(rows.compactMap(\.evidenceID))
            }
            gaps.sort { ($0.subject.description, $0.control) < ($1.subject.description, $1.control) }
            return ItemAssessment(framework: framework, item: item, controls: controls, applicable: perSubject.count,
                                  covered: covered, evidenceIDs: evidence.sorted(), openGaps: gaps)
        }
    }

    public func frameworks(only id: String?) -> [Framework] {
        catalog.frameworks.filter { id == nil || $0.id == id }
    }

    /// The deciding records of controls mapped to `framework`, in ledger order.
    public func evidence(for framework: Framework) -> [EvidenceRecord] {
        let controls = Set(catalog.mappings.filter { $0.framework == framework.id && $0.relationship != .noRelationship }.map(\.control))
        return evidence.values.filter { controls.contains($0.control) }.sorted { $0.id < $1.id }
    }
}

extension ComplianceSnapshot {
    /// Controls without valid evidence along an exposure's top path (its model, agent and the
    /// credential itself): the evidence that would close the exposure's main causes.
    public func openControls(along exposure: Exposure) -> [ControlStatus] {
        var subjects: [Subject] = []
        let kinds: [SubjectKind] = exposure.path.count >= 3 ? [.model, .agent, .credential] : [.credential]
        for (kind, key) in zip(kinds, exposure.path) { subjects.append(Subject(kind: kind, key: key)) }
        if !subjects.contains(Subject(kind: .credential, key: exposure.credential)) { subjects.append(Subject(kind: .credential, key: exposure.credential)) }
        let wanted = Set(subjects)
        return statuses.filter { wanted.contains($0.subject) && !$0.isValid }
    }
}

import Crypto

extension ComplianceSnapshot {
    /// A hash of what the snapshot says. Document, result and finding UUIDs derive from it, so
    /// they stay the same for the same state and change when anything they describe changes.
    public var digest: String {
        var h = SHA256()
        func add(_ s: String) { h.update(data: Data(s.utf8)); h.update(data: Data([0])) }
        add(Timestamps.format(asOf)); add(ledgerHead); add(String(runID ?? 0))
        for s in statuses { add("\(s.subject)|\(s.owner ?? "")|\(s.control)|\(s.status)|\(s.evidenceID ?? 0)") }
        for e in exposures { add("\(e.credential)|\(e.score)|\(e.path.joined(separator: ">"))") }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
