import Foundation
import PostgresNIO
import SleeperCore

extension ScoredChanges {
    /// The control runtime findings are evidence of.
    public static let runtimeControl = "SLP-RUNTIME-MONITOR"

    /// What a trace import did.
    public struct TraceImport: Sendable {
        public var spans: Int
        public var traces: Int
        public var skipped: [String: Int]
        public var firstSkipped: [String]
        public var unknownAgents: [String: Int]
        /// Findings past the bound per agent and kind, counted (`agent kind` → how many).
        public var unlisted: [String: Int]
        public var edges: Int
        public var findings: [RuntimeStore.StoredFinding]
        /// Traces of agents the inventory knows: 0 means nothing was monitored.
        public var monitoredTraces: Int { traces - unknownAgents.values.reduce(0, +) }
        public var records: [EvidenceRecord]
        public var rescore: Rescore?
        /// When the same spans were imported before (then nothing was counted again), or nil.
        public var alreadyImported: Date? = nil
        /// Spans imported before (in another batch or file), not counted again.
        public var alreadySeen = 0
        /// Every span kept was imported before: nothing new, and nothing monitored that was not already.
        public var allSeenBefore: Bool { alreadySeen > 0 && alreadySeen == spans - skipped.values.reduce(0, +) }
    }

    /// Reads OTLP/JSON traces, compares what the agents did with their declared envelope, and in
    /// one transaction adds the observed edges, the findings, and SLP-RUNTIME-MONITOR evidence for
    /// each agent whose standing changed: a fail when it has open findings (new ones, or none
    /// recorded yet), a pass when it was observed with none open. Then rescores: a failed runtime
    /// check holds the agent's A high, so every credential it holds moves at once.
    /// `asOf` nil: the clock's now.
    /// `baselineDays`: an agent observed for at least this long that makes a call it never made is
    /// a `new-after-baseline` finding (listed for review; it does not fail the check by itself).
    public func importTraces(_ data: Data, file: String, baselineDays: Int = 14, actor: String, asOf: Date? = nil) async throws -> TraceImport {
        let started = asOf ?? SleeperClock.now()
        let parsed = OTLPTraceReader.parse(data, file: file)
        let head = parsed.result
        PhaseTiming.report("traces: \(head.spans) spans read")
        guard head.spans > 0 || head.skipped.isEmpty else {
            throw StoreError.invalidInput("\(file): \(head.firstSkipped.first ?? "not OTLP/JSON traces"); nothing was written")
        }
        let store = RuntimeStore(db)
        // The same spans again (a retry, a re-run) count nothing twice.
        let kept = head.spans - head.skipped.values.reduce(0, +)
        if kept > 0, let before = try await store.batchImported(head.digest) {
            let again = parsed.assembled()
            return TraceImport(
                spans: again.spans, traces: again.traces.count, skipped: again.skipped, firstSkipped: again.firstSkipped,
                unknownAgents: [:], unlisted: [:], edges: 0, findings: [], records: [], rescore: nil, alreadyImported: before)
        }
        let envelopes = try await store.envelopes()
        var keyOf: [String: String] = [:]
        for e in envelopes { keyOf[e.agent] = e.agent; for a in e.aliases where keyOf[a] == nil { keyOf[a] = e.agent } }
        // A trace's agent is the agent a span of it names (its own or an ancestor's).
        let history = try await store.history(Array(Set(parsed.agentNames.compactMap { keyOf[$0] })).sorted(), baselineDays: baselineDays)
        PhaseTiming.report("traces: envelopes and history")
        let (times, keys) = parsed.spanKeys
        let ledger = EvidenceLedger(db)
        let controls = try await ledger.controlsByID()
        let (read, compared, findings, records, debt) = try await db.transaction { tx -> (OTLPTraceReader.Result, RuntimeFindings.Result, [RuntimeStore.StoredFinding], [EvidenceRecord], Int64?) in
            // Spans imported before count nothing twice: an export read again after it grew, a
            // batch that overlaps one sent before. Imports take turns, so two cannot both count one.
            try await tx.query("SELECT pg_advisory_xact_lock(\(RuntimeStore.traceImportLock))", logger: db.logger)
            let seen = try await store.seenSpans(times, keys, on: tx)
            let read = parsed.assembled(skipping: seen)
            if kept > 0, seen.count == kept { return (read, RuntimeFindings.Result(), [], [], nil) }
            PhaseTiming.report("traces: \(seen.count) seen before, \(read.traces.count) traces assembled")
            let compared = RuntimeFindings.compare(read.traces, envelopes: envelopes, history: history)
            PhaseTiming.report("traces: compared (\(compared.edges.count) edges, \(compared.findings.count) findings)")
            // Only a batch that monitored something is remembered: one whose agents were all unknown
            // may be imported again once the inventory names them (`trace_names`).
            if kept > 0, !compared.observedAgents.isEmpty {
                try await store.recordBatch(head.digest, spans: kept, file: file, on: tx)
                try await store.rememberSpans(times, keys, except: seen, on: tx)
            }
            let findings = try await store.write(compared, on: tx)
            PhaseTiming.report("traces: edges and findings written")
            let agents = compared.observedAgents.sorted()
            let open = try await store.openCounts(agents, on: tx)
            let latest = try await store.latestResults(agents, control: Self.runtimeControl, on: tx)
            let newByAgent = Dictionary(grouping: findings.filter { $0.new && $0.status == .open && $0.kind != RuntimeFindings.Kind.newAfterBaseline.rawValue }, by: \.agent)
            var drafts: [EvidenceDraft] = []
            // The file is hashed once, not once per agent (9,800 agents hashed 11 MB each: minutes).
            let artifact = Artifact.of(name: URL(fileURLWithPath: file).lastPathComponent, data: data)
            // Grouped once: filtered per agent, 9,800 agents' edges and findings took minutes.
            let edgesByAgent = Dictionary(grouping: compared.edges, by: \.agent)
            let findingsByAgent = Dictionary(grouping: findings, by: \.agent)
            for agent in agents {
                let subject = Subject(kind: .agent, key: agent)
                let openIDs = open[agent] ?? []
                let seen = edgesByAgent[agent] ?? []
                let traces = seen.map(\.count).max() ?? 0
                // The check was made on the traces: as of the last call seen, never later than now.
                let effective = min(started, seen.map(\.lastSeen).max() ?? started)
                if !openIDs.isEmpty, latest[agent] != "fail" || newByAgent[agent] != nil {
                    let listed = (findingsByAgent[agent] ?? []).filter { openIDs.contains($0.id) }
                    let note =
                        "Runtime monitoring of \(file): \(openIDs.count) open finding(s) (#\(openIDs.map(String.init).joined(separator: ", #"))): "
                        + listed.prefix(5).map { f in
                            "\(f.kind) \(f.target) (\(f.count) trace(s), first \(Timestamps.format(f.firstSeen)), e.g. trace \(f.examples.first ?? "?"))"
                                + (f.triggers.first.map { "; trigger candidate \"\($0.ngram)\" in \($0.inAnomalous)/\($0.anomalous) anomalous and \($0.inNormal)/\($0.normal) other traces" } ?? "")
                        }.joined(separator: "; ")
                    drafts.append(
                        EvidenceDraft(
                            subject: subject, control: Self.runtimeControl, result: .fail, effective: effective,
                            artifacts: [artifact],
                            recordedBy: "sleeper observe", note: String(note.prefix(4000)), file: file))
                } else if openIDs.isEmpty, latest[agent] != "pass" {
                    drafts.append(
                        EvidenceDraft(
                            subject: subject, control: Self.runtimeControl, result: .pass, effective: effective,
                            artifacts: [artifact],
                            recordedBy: "sleeper observe",
                            note: "Runtime monitoring of \(file): seen in \(traces) trace(s) or more, \(seen.count) distinct call(s), none outside what the inventory declares",
                            file: file))
                }
            }
            PhaseTiming.report("traces: \(drafts.count) evidence drafts")
            let records = drafts.isEmpty ? [] : try await ledger.append(drafts, controls: controls, actor: actor, on: tx)
            let debt = records.isEmpty ? nil : try await owe(Self.owedAfter(records, actor: actor, asOf: asOf ?? started), on: tx)
            return (read, compared, findings, records, debt)
        }
        var rescore: Rescore?
        if let debt {
            await closeActions()
            rescore = await settling(debt, actor: actor)
        }
        return TraceImport(
            spans: read.spans, traces: read.traces.count, skipped: read.skipped, firstSkipped: read.firstSkipped,
            unknownAgents: compared.unknownAgents, unlisted: compared.unlisted, edges: compared.edges.count, findings: findings, records: records,
            rescore: rescore, alreadySeen: read.alreadySeen)
    }
}

extension ScoredChanges {
    /// A person's decision on a finding (acknowledged: real and handled; false-positive: not a
    /// problem; open: back to open), with the reason, audited. Only open findings count against
    /// the agent: when its last open finding is decided, a pass is recorded; when one is reopened,
    /// a fail. The decision and the evidence commit together.
    public func markFinding(
        _ id: Int, status: FindingStatus, reason: String, by: String, actor: String,
        asOf: Date? = nil
    ) async throws -> (finding: RuntimeStore.StoredFinding, records: [EvidenceRecord], rescore: Rescore?) {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalidInput("--reason: say why (it is kept with the decision)") }
        let store = RuntimeStore(db)
        let ledger = EvidenceLedger(db)
        let controls = try await ledger.controlsByID()
        let (finding, records, debt) = try await db.transaction { tx -> (RuntimeStore.StoredFinding, [EvidenceRecord], Int64?) in
            guard
                let row = try await tx.query(
                    """
                    UPDATE runtime_findings SET status = \(status.rawValue), reason = \(reason), decided_by = \(by), decided_at = now()
                    WHERE id = \(id)
                    RETURNING \(unescaped: RuntimeStore.findingColumns), false
                    """, logger: db.logger
                ).decode(RuntimeStore.FindingRow.self)
                    .first(where: { _ in true })
            else { throw StoreError.notFound("no finding #\(id)") }
            let finding = try RuntimeStore.finding(row)
            try await AuditLog.record(
                actor: actor, action: "finding.mark", target: "#\(id)",
                detail: ["status": status.rawValue, "reason": reason, "by": by, "agent": finding.agent], on: tx, logger: db.logger)
            let open = try await store.openCounts([finding.agent], on: tx)[finding.agent] ?? []
            let latest = try await store.latestResults([finding.agent], control: Self.runtimeControl, on: tx)[finding.agent]
            let subject = Subject(kind: .agent, key: finding.agent)
            var drafts: [EvidenceDraft] = []
            let why = "finding #\(id) (\(finding.kind) \(finding.target)) marked \(status.rawValue) by \(by): \(reason)"
            if open.isEmpty, latest == "fail" {
                drafts.append(
                    EvidenceDraft(
                        subject: subject, control: Self.runtimeControl, result: .pass, effective: asOf ?? SleeperClock.now(), recordedBy: by,
                        note: String("Runtime monitoring: no open finding left; \(why)".prefix(4000))))
            } else if !open.isEmpty, latest != "fail" {
                drafts.append(
                    EvidenceDraft(
                        subject: subject, control: Self.runtimeControl, result: .fail, effective: asOf ?? SleeperClock.now(), recordedBy: by,
                        note: String("Runtime monitoring: \(open.count) open finding(s) (#\(open.map(String.init).joined(separator: ", #"))); \(why)".prefix(4000))))
            }
            let records = drafts.isEmpty ? [] : try await ledger.append(drafts, controls: controls, actor: actor, on: tx)
            let debt = records.isEmpty ? nil : try await owe(Self.owedAfter(records, actor: actor, asOf: asOf ?? SleeperClock.now()), on: tx)
            return (finding, records, debt)
        }
        var rescore: Rescore?
        if let debt { rescore = await settling(debt, actor: actor) }
        return (finding, records, rescore)
    }
}
