import Foundation
import SleeperCore

extension ScoredChanges {
    /// A report read, judged, recorded and rescored.
    public struct IngestedReport: Sendable {
        public var report: TestReport
        public var records: [EvidenceRecord]
        public var rescore: Rescore
    }

    /// What a caller knows besides the report: the subject, the bytes that were tested, and what
    /// stands in for a report that states no time.
    public struct ReportContext: Sendable {
        public var subject: Subject
        public var tested: TestedBytes
        /// The tested files' own hashes, kept as artifacts beside the report's.
        public var fileArtifacts: [Artifact]
        public var recordStale: Bool
        /// When the tested run happened for a report that states no time (fickling, picklescan),
        /// with why; nil refuses such a report (the command line then asks for --effective: a
        /// file's modification time would let copy order decide the verdict).
        public var fallback: (date: Date, why: String)?
        public var by: String?
        /// Where the caller can read files: given the path a report says it scanned, the bytes
        /// there and their hashes, or nil when that path is not at hand.
        public var locate: (@Sendable (String) throws -> (TestedBytes, [Artifact])?)?

        public init(
            subject: Subject, tested: TestedBytes, fileArtifacts: [Artifact] = [], recordStale: Bool = false,
            fallback: (date: Date, why: String)?, by: String? = nil,
            locate: (@Sendable (String) throws -> (TestedBytes, [Artifact])?)? = nil
        ) {
            self.subject = subject
            self.tested = tested
            self.fileArtifacts = fileArtifacts
            self.recordStale = recordStale
            self.fallback = fallback
            self.by = by
            self.locate = locate
        }
    }

    /// Reads a model-testing tool's report, turns it into one evidence record by the rules, binds
    /// it to the bytes it is about, and records it (all or nothing), then rescores.
    public func ingestReport(
        _ data: Data, file: String, format: ReportFormat?, control: String? = nil, rules: ReportRules,
        context: ReportContext, actor: String, asOf: Date = SleeperClock.now()
    ) async throws -> IngestedReport {
        let report: TestReport
        switch TestReportReader.read(data, file: file, format: format, rules: rules, control: control) {
        case .success(let r): report = r
        case .failure(let problems): throw problems
        }
        guard report.time != .none || context.fallback != nil else {
            throw InventoryProblems([InventoryProblem(file: file, path: "", message: "\(report.tool) states no time for its run: give the time of the scan with --effective (YYYY-MM-DD or ISO 8601)")])
        }
        let fallback = context.fallback ?? (SleeperClock.now(), "")
        var tested = context.tested, fileArtifacts = context.fileArtifacts
        // A scan that names the path it scanned (modelscan) is bound to the bytes there, when the caller has them.
        if case .notNamed = tested, !report.files.isEmpty, let target = report.target, let found = try context.locate?(target) {
            (tested, fileArtifacts) = found
        }
        let stated = report.statedDigests
        if stated.count > 1 {
            throw InventoryProblems([
                InventoryProblem(file: file, path: "", message: "is about several components with different digests (\(stated.joined(separator: ", "))): Sleeper binds one report to one model")
            ])
        }
        switch (tested, stated.first) {
        case (.notNamed, let digest?):
            tested = .digest(digest, how: "stated by the report")
        case (.digest(let given, _), let digest?) where given.lowercased() != digest:
            throw InventoryProblems([InventoryProblem(file: file, path: "", message: "is about \(digest), not the tested bytes given (\(given))")])
        case (.notNamed, nil) where !report.files.isEmpty:
            let named = report.files.prefix(3).joined(separator: ", ") + (report.files.count > 3 ? ", …" : "")
            throw InventoryProblems([
                InventoryProblem(
                    file: file, path: "",
                    message:
                        "names the files it scanned (\(named)) but not their bytes: give the model's files (--model-path) or their digest (--digest, or ?digest= over the API) so that the evidence binds to what was scanned"
                )
            ])
        default:
            break
        }
        let draft = report.draft(
            subject: context.subject, reportName: URL(fileURLWithPath: file).lastPathComponent, reportData: data,
            fileArtifacts: fileArtifacts, tested: tested, recordStale: context.recordStale,
            fallback: fallback, by: context.by)
        let (records, rescore) = try await recordEvidence([draft], actor: actor, asOf: asOf)
        return IngestedReport(report: report, records: records, rescore: rescore)
    }

    /// The rules shipped in this binary (`Controls/report-rules.yaml`).
    public static func bundledReportRules() throws -> ReportRules {
        guard let data = BundledFiles.all["Controls/report-rules.yaml"] else { throw StoreError.invalidInput("Controls/report-rules.yaml is not in this build") }
        return try ReportRules.read(data, file: "report-rules.yaml").get()
    }
}
