import Foundation

/// The reports `sleeper evidence ingest` reads: one per tool that tests models.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// protectai/modelscan `-r json`: a serialization scan of model files.
    case modelscan
    /// trailofbits/fickling `--check-safety --json-output`: JSON objects back to back, one per pickle.
    case fickling
    /// picklescan's text output: "dangerous import … FOUND" lines and a summary block.
    case picklescan
    /// NVIDIA/garak's report JSONL: a behavioural red-team of a model.
    case garak
    /// promptfoo's `-o results.json` (results version 3): an eval or a red-team run.
    case promptfoo
    /// A CycloneDX 1.6+ BOM's `declarations`: attestations, claims and evidence.
    case cyclonedxDeclarations = "cyclonedx-declarations"
    /// Sleeper's own `sleeper scan model --format json`.
    case sleeperModelScan = "sleeper-model-scan"

    public var tool: String {
        switch self {
        case .cyclonedxDeclarations: return "CycloneDX declarations"
        case .sleeperModelScan: return "sleeper scan model"
        default: return rawValue
        }
    }

    /// The format told from the content (its first 64 KB), or nil when it is none of these.
    public static func detect(_ data: Data) -> ReportFormat? {
        let head = String(decoding: data.prefix(65_536), as: UTF8.self)
        let trimmed = head.drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        if trimmed.hasPrefix("{") {
            if head.contains("\"modelscan_version\"") { return .modelscan }
            // Sleeper writes its keys sorted: the scan's kind follows the file list, near the end.
            let tail = String(decoding: data.suffix(65_536), as: UTF8.self)
            if tail.contains("\"sleeper_scan\" : \"model\"") || tail.contains("\"sleeper_scan\":\"model\"") { return .sleeperModelScan }
            if head.contains("\"entry_type\"") && trimmed.prefix(while: { $0 != "\n" }).contains("\"entry_type\"") { return .garak }
            if head.contains("\"bomFormat\"") && head.contains("\"declarations\"") { return .cyclonedxDeclarations }
            if head.contains("\"evalId\"") || (head.contains("\"results\"") && head.contains("\"promptfooVersion\"")) { return .promptfoo }
            if head.contains("\"severity\"") && head.contains("\"analysis\"") { return .fickling }
            return nil
        }
        if head.contains("----------- SCAN SUMMARY -----------") || head.contains(#/ import '[^']*' FOUND/#) { return .picklescan }
        return nil
    }
}
