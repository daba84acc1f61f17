import Foundation

/// Reads one report of a model-testing tool, told from its content unless `format` says which,
/// and judges it by `rules`. Bounded: a report larger than `maximumBytes` is refused unread.
public enum TestReportReader {
    /// garak reports carry every attempt; a long run is hundreds of megabytes.
    public static let maximumBytes = 1 << 30

    public static func read(
        _ data: Data, file: String, format: ReportFormat? = nil, rules: ReportRules,
        control: String? = nil
    ) -> Result<TestReport, InventoryProblems> {
        guard data.count <= maximumBytes else {
            return ReportParsing.failure(file, "", "is larger than \(maximumBytes >> 20) MB")
        }
        guard !data.isEmpty else { return ReportParsing.failure(file, "", "is empty") }
        guard let format = format ?? ReportFormat.detect(data) else {
            return ReportParsing.failure(file, "", "is not a report Sleeper reads (\(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))); if it is one, name its format")
        }
        if control != nil && format != .cyclonedxDeclarations {
            return ReportParsing.failure(file, "", "--control applies to CycloneDX declarations only; a \(format.tool) report proves the control its rule names")
        }
        var report: Result<TestReport, InventoryProblems>
        switch format {
        case .modelscan: report = ModelscanReport.read(data, file: file, rules: rules)
        case .fickling: report = FicklingReport.read(data, file: file, rules: rules)
        case .picklescan: report = PicklescanReport.read(data, file: file, rules: rules)
        case .garak: report = GarakReport.read(data, file: file, rules: rules)
        case .promptfoo: report = PromptfooReport.read(data, file: file, rules: rules)
        case .cyclonedxDeclarations: report = DeclarationsReport.read(data, file: file, rules: rules, control: control)
        case .sleeperModelScan: report = SleeperModelScanReport.read(data, file: file, rules: rules)
        }
        // What is stored of a report is its hash and these few texts: none may be secret material
        // of a known shape. (Paths and run ids are often random: the entropy rule would refuse them.)
        if case .success(let r) = report {
            for (field, value) in [("target", r.target), ("version", r.toolVersion)] + r.findings.map({ ("findings", Optional($0)) }) {
                if let value, SecretScanner.mayHoldSecret(value), SecretScanner.knownSecretKind(of: value) != nil {
                    report = ReportParsing.failure(file, field, "looks like secret material; the value is not shown and nothing was written")
                }
            }
        }
        return report
    }
}

/// What bytes a report was about, as the caller established them.
public enum TestedBytes: Sendable, Equatable {
    /// The digest of the tested bytes, and how it was established (for the note).
    case digest(String, how: String)
    /// Neither the report nor the caller names the bytes (a red-team of a served model).
    case notNamed
}

extension TestReport {
    /// The model's files the report covered, by path: an entry inside an archive
    /// (`pytorch_model.bin:archive/data.pkl`, as modelscan names it) is its archive.
    public var coveredFiles: [String] {
        Array(Set(files.map { f in f.firstIndex(of: ":").map { String(f[..<$0]) } ?? f }.filter { !$0.isEmpty })).sorted()
    }

    /// The one evidence record this report becomes. `fallback` stands in for a report that states
    /// no time (with the reason, for the note); `tested` is bound to the model's digest by the ledger.
    public func draft(
        subject: Subject, reportName: String, reportData: Data, fileArtifacts: [Artifact], tested: TestedBytes,
        recordStale: Bool, fallback: (date: Date, why: String), by: String?
    ) -> EvidenceDraft {
        var lines = ["\(tool): \(summary)", "Rule: \(rule)"]
        switch time {
        case .stated(let d): lines.append("Time: \(Timestamps.format(d)), as the report states it")
        case .zoneless(let d, let zone): lines.append("Time: \(Timestamps.format(d)); the report gives no zone, read as \(zone)")
        case .none: lines.append("Time: \(Timestamps.format(fallback.date)); the report states none, so \(fallback.why)")
        }
        if let target { lines.append("Target: \(target)") }
        switch tested {
        case .digest(let digest, let how): lines.append("Tested bytes: \(digest) (\(how))")
        case .notNamed: lines.append("Tested bytes: not named by the report; bound to the model's digest when recorded")
        }
        if !findings.isEmpty { lines.append("Findings: " + findings.joined(separator: "; ")) }
        // One line: notes are shown in tables and CSV cells.
        var note = lines.joined(separator: " · ")
        if note.count > 4000 { note = String(note.prefix(3999)) + "…" }
        var draft = EvidenceDraft(
            subject: subject, control: control, result: result, effective: time.date ?? fallback.date, expires: expires,
            artifacts: [.of(name: reportName, data: reportData)] + fileArtifacts,
            recordedBy: by ?? "sleeper evidence ingest", note: note, file: reportName)
        draft.coveredFiles = coveredFiles
        if case .digest(let digest, _) = tested {
            draft.boundDigest = digest
            draft.recordStale = recordStale
        }
        return draft
    }
}
