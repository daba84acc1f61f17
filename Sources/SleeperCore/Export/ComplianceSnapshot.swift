import Crypto
import Foundation

/// Everything an export or a report says, read from the store at one as-of time. The renderers
/// are pure functions of it, so the same state and as-of give the same bytes.
public struct ComplianceSnapshot: Sendable {
    public var asOf: Date
    public var catalog: Catalog
    /// Every subject × applicable control (valid ones included), except the subjects `unlisted` counts.
    public var statuses: [ControlStatus]
    /// Subjects left out of `statuses` because nothing is recorded of them (no evidence, no
    /// accepted risk), per kind: every control that applies to one of them is missing, so they
    /// are counted, not listed. A review of a million credentials needs the counts, not five
    /// million rows. Empty in the full snapshot exports are made from.
    public var unlisted: [SubjectKind: Int] = [:]
    /// The subjects `unlisted` counts, by kind, in key order with their owners, when an export
    /// lists every row (the CSV): each gets a `missing` row for every control of its kind,
    /// written as it goes, never held as five million statuses.
    public var unlistedSubjects: [SubjectKind: (keys: [String], owners: [String?])] = [:]
    /// With `unlisted`: how many subjects have no owner in all, and those of them that come first
    /// in `ReviewReport.unowned()` order (the rest are counted, not listed).
    public var ownerless: (count: Int, first: [Subject])?
    /// The records that decide a status at `asOf`, by id.
    public var evidence: [Int: EvidenceRecord]
    /// The scoring run the exposures come from (the latest at or before `asOf`), if any.
    public var runID: Int?
    /// Critical and high exposures of that run, worst first.
    public var exposures: [Exposure]
    /// The head of the evidence hash chain, which pins the ledger the export was made from.
    public var ledgerHead: String
    /// Why the ledgers did not verify, when the snapshot was made anyway (`--allow-unverified`);
    /// empty when they verified. Every document made from such a snapshot carries a banner.
    public var ledgerProblems: [String] = []
    /// The scoring weights version the exposures were computed with; every document names it,
    /// with the tool's version, the ledger head and the run.
    public var weightsVersion = ""
    /// The time the cited run's scores describe.
    public var runAsOf: Date?
    /// Which evidence counted for `asOf`: as recorded by then, or as known now (see `EvidenceBasis`).
    public var basis: EvidenceBasis = .recorded
    /// The remediation actions as they stood at `asOf`, and the acceptances standing then.
    public var actions: [RemediationAction] = []
    public var acceptances: [AcceptedRisk] = []
    public var toolVersion: String { SleeperVersion.current }

    /// What the audit log keeps of a document made from this snapshot.
    public func auditDetail(framework: String?) -> [String: String] {
        var d = [
            "as_of": Timestamps.format(asOf), "ledger_head": ledgerHead, "score_run": runID.map(String.init) ?? "none",
            "weights": weightsVersion, "sleeper": toolVersion, "ledger_verified": String(ledgerProblems.isEmpty), "basis": basis.rawValue,
        ]
        if let framework { d["framework"] = framework }
        return d
    }
    public var unverifiedBanner: String? {
        ledgerProblems.isEmpty ? nil : "UNVERIFIED: the evidence ledger did not verify when this was made (\(ledgerProblems.joined(separator: "; "))); do not rely on it"
    }

    public init(
        asOf: Date, catalog: Catalog, statuses: [ControlStatus], evidence: [Int: EvidenceRecord],
        runID: Int?, exposures: [Exposure], ledgerHead: String
    ) {
        self.asOf = asOf
        self.catalog = catalog
        self.statuses = statuses
        self.evidence = evidence
        self.runID = runID
        self.exposures = exposures
        self.ledgerHead = ledgerHead
    }

    /// Every status in order (kind, key, control), the listed ones and those of `unlistedSubjects`
    /// made as they are reached: `body` is called once per row.
    public func forEachStatus(_ body: (ControlStatus) -> Void) {
        guard !unlistedSubjects.isEmpty else { statuses.forEach(body); return }
        // What an unlisted subject's rows are: those of a listed subject of its kind with nothing
        // recorded (five of each kind are listed for this), subject and owner aside.
        var bySubject: [Subject: [ControlStatus]] = [:]
        for s in statuses { bySubject[s.subject, default: []].append(s) }
        var template: [SubjectKind: [ControlStatus]] = [:]
        for (subject, rows) in bySubject
        where template[subject.kind] == nil
            && rows.allSatisfy({ $0.status == .missing && $0.evidenceID == nil && $0.acceptedUntil == nil })
        {
            template[subject.kind] = rows
        }
        var i = 0
        for kind in SubjectKind.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            let (keys, owners) = unlistedSubjects[kind] ?? ([], [])
            var k = 0
            func emitUnlisted(before key: String?) {
                while k < keys.count, key.map({ keys[k] < $0 }) ?? true {
                    for t in template[kind] ?? [] {
                        var row = t
                        row.subject = Subject(kind: kind, key: keys[k])
                        row.owner = owners[k]
                        body(row)
                    }
                    k += 1
                }
            }
            while i < statuses.count, statuses[i].subject.kind == kind {
                emitUnlisted(before: statuses[i].subject.key)
                body(statuses[i])
                i += 1
            }
            emitUnlisted(before: nil)
        }
        while i < statuses.count { body(statuses[i]); i += 1 }
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
        /// The first few statuses that leave a subject uncovered, in subject order.
        public var openGapSamples: [ControlStatus]
        /// How many such statuses there are, per control, most first.
        public var openGapCounts: [(control: String, count: Int)]
        public var openGapTotal: Int { openGapCounts.map(\.count).reduce(0, +) }
        public var satisfied: Bool { applicable > 0 && covered == applicable }
    }

    /// The items of `framework` that some control maps to, in catalog order — not aliases (`A2`):
    /// an alias restates other items, and counted it would count their subjects twice; this is
    /// the one computation the report, the exports and `coverage` totals share. One pass over the
    /// statuses (which arrive grouped by subject), with each subject's applicable and valid
    /// controls as bit sets: a million credentials take seconds, not the minutes that grouping
    /// statuses per item took.
    ///
    /// `includingAliases`: an alias item (A2 for ASI04) is assessed too, through the items it
    /// stands for, so that it can be shown beside them; totals count items that are not aliases.
    public func assessments(framework: Framework, includingAliases: Bool = false) -> [ItemAssessment] {
        let controlIDs = catalog.controls.map(\.id)
        // Sleeper ships 14 controls; a catalog past 64 would share bits and needs wider sets.
        let bit = Dictionary(uniqueKeysWithValues: controlIDs.enumerated().map { ($1, UInt64(1) << UInt64($0 % 64)) })
        let mapped = catalog.mappings.filter { $0.framework == framework.id && $0.relationship != .noRelationship }
        struct Tally {
            var item: FrameworkItem, controls: [String], mask: UInt64
            var applicable = 0, covered = 0, evidence = Set<Int>(), samples: [ControlStatus] = [], counts: [String: Int] = [:]
        }
        var tallies: [Tally] = framework.items.compactMap { item in
            guard includingAliases || !item.isAlias else { return nil }
            let targets = Set(item.isAlias ? item.aliasOf : [item.id])
            let controls = controlIDs.filter { c in mapped.contains { $0.control == c && targets.contains($0.item) } }
            guard !controls.isEmpty else { return nil }
            return Tally(item: item, controls: controls, mask: controls.reduce(0) { $0 | bit[$1]! })
        }
        var start = 0
        let rows = statuses
        while start < rows.count {
            var end = start + 1
            while end < rows.count && rows[end].subject == rows[start].subject { end += 1 }
            var present: UInt64 = 0, valid: UInt64 = 0
            for r in rows[start..<end] {
                let b = bit[r.control] ?? 0
                present |= b
                if r.isValid { valid |= b }
            }
            for t in tallies.indices where tallies[t].mask & present != 0 {
                tallies[t].applicable += 1
                let mask = tallies[t].mask
                if mask & valid != 0 { tallies[t].covered += 1 }
                for r in rows[start..<end] where (bit[r.control] ?? 0) & mask != 0 {
                    if let e = r.evidenceID { tallies[t].evidence.insert(e) }
                    if mask & valid == 0 {
                        tallies[t].counts[r.control, default: 0] += 1
                        if tallies[t].samples.count < 5 { tallies[t].samples.append(r) }
                    }
                }
            }
            start = end
        }
        // Subjects counted, not listed: every control applying to their kind is missing.
        for (kind, n) in unlisted where n > 0 {
            let applying = catalog.controls.filter { $0.appliesTo.contains(kind) }.map(\.id)
            let mask = applying.reduce(UInt64(0)) { $0 | (bit[$1] ?? 0) }
            for t in tallies.indices where tallies[t].mask & mask != 0 {
                tallies[t].applicable += n
                for c in tallies[t].controls where applying.contains(c) { tallies[t].counts[c, default: 0] += n }
            }
        }
        return tallies.map { t in
            ItemAssessment(
                framework: framework, item: t.item, controls: t.controls, applicable: t.applicable, covered: t.covered,
                evidenceIDs: t.evidence.sorted(), openGapSamples: t.samples,
                openGapCounts: t.counts.map { ($0.key, $0.value) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) })
        }
    }

    /// Every item of `framework` in catalog order with its applicable and covered subjects: the
    /// numbers of `assessments` (aliases shown through their targets, never counted twice), and
    /// 0 of 0 for an item no control maps to. `coverage`, its API and the report read these.
    public func coverage(framework: Framework) -> [ItemCoverage] {
        let assessed = Dictionary(uniqueKeysWithValues: assessments(framework: framework, includingAliases: true).map { ($0.item.id, $0) })
        return framework.items.map { item in
            let a = assessed[item.id]
            return ItemCoverage(item: item.id, name: item.name, isAlias: item.isAlias, applicable: a?.applicable ?? 0, covered: a?.covered ?? 0)
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
        openControls(along: [exposure])[0]
    }

    /// The same for many exposures with one pass over the statuses (one pass each made a POA&M
    /// of 15,000 exposures at 100k credentials take minutes).
    public func openControls(along exposures: [Exposure]) -> [[ControlStatus]] {
        func subjects(_ e: Exposure) -> [Subject] {
            let kinds: [SubjectKind] = e.path.count >= 3 ? [.model, .agent, .credential] : [.credential]
            var out = zip(kinds, e.path).map { Subject(kind: $0, key: $1) }
            if !out.contains(Subject(kind: .credential, key: e.credential)) { out.append(Subject(kind: .credential, key: e.credential)) }
            return out
        }
        let paths = exposures.map(subjects)
        let wanted = Set(paths.joined())
        var open: [Subject: [ControlStatus]] = [:]
        for st in statuses where !st.isValid && wanted.contains(st.subject) { open[st.subject, default: []].append(st) }
        // In status order (subject by kind and key, then control), as one pass over all would give.
        return paths.map { path in
            Array(Set(path)).sorted { ($0.kind.rawValue, $0.key) < ($1.kind.rawValue, $1.key) }.flatMap { open[$0] ?? [] }
        }
    }
}

extension ComplianceSnapshot {
    /// A hash of what the snapshot says. Document, result and finding UUIDs derive from it, so
    /// they stay the same for the same state and change when anything they describe changes.
    public var digest: String {
        var h = SHA256()
        func add(_ s: String) { h.update(data: Data(s.utf8)); h.update(data: Data([0])) }
        add(Timestamps.format(asOf)); add(ledgerHead); add(String(runID ?? 0))
        for s in statuses { add("\(s.subject)|\(s.owner ?? "")|\(s.control)|\(s.status)|\(s.evidenceID ?? 0)") }
        // A snapshot that counts some subjects instead of listing them (the assessment results are
        // made from one) digests what it holds: a document's UUIDs follow what it can show.
        for (kind, n) in unlisted.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { add("\(kind.rawValue)|\(n)") }
        for e in exposures { add("\(e.credential)|\(e.score)|\(e.path.joined(separator: ">"))") }
        return h.finalize().hexEncoded
    }
}
