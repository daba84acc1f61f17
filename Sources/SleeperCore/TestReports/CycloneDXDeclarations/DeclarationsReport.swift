import Foundation

/// A CycloneDX 1.6+ BOM's `declarations`: attestations map a standard's requirements to claims
/// about targets, with conformance scores and evidence that has `created` and `expires`. The
/// requirement's `identifier` (from `definitions.standards`) names the control, or `--control`
/// does; the claims' target components give the model's digest. Signatures inside the BOM are not
/// verified here, and the note says so.
enum DeclarationsReport {
    static func read(_ data: Data, file: String, rules: ReportRules, control wanted: String?) -> Result<TestReport, InventoryProblems> {
        let r: DocumentCursor
        do { r = try ReportParsing.json(data, file: file, what: "CycloneDX BOM") } catch { return .failure(error) }
        guard ReportParsing.text(r["bomFormat"]) == "CycloneDX" else { return ReportParsing.failure(file, "bomFormat", "must be CycloneDX") }
        let spec = ReportParsing.text(r["specVersion"]) ?? ""
        let parts = spec.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 2, parts[0] == 1, parts[1] >= 6 else {
            return ReportParsing.failure(file, "specVersion", "'\(spec)' has no declarations: they came with CycloneDX 1.6")
        }
        let d = r["declarations"]
        guard let attestations = d["attestations"].elements, !attestations.isEmpty else {
            return ReportParsing.failure(file, "declarations.attestations", "is missing or empty: the BOM attests nothing")
        }
        // bom-ref → the requirement's identifier, the claim, the evidence, the target component.
        var requirements: [String: String] = [:]
        for standard in r["definitions"]["standards"].elements ?? [] {
            for req in standard["requirements"].elements ?? [] {
                if let ref = ReportParsing.text(req["bom-ref"]), let id = ReportParsing.text(req["identifier"]) { requirements[ref] = id }
            }
        }
        func byRef(_ list: DocumentCursor) -> [String: DocumentCursor] {
            var out: [String: DocumentCursor] = [:]
            for item in list.elements ?? [] { if let ref = ReportParsing.text(item["bom-ref"]) { out[ref] = item } }
            return out
        }
        let claims = byRef(d["claims"]), evidence = byRef(d["evidence"]), components = byRef(d["targets"]["components"])

        var maps: [(entry: DocumentCursor, requirement: String?)] = []
        for a in attestations { for m in a["map"].elements ?? [] { maps.append((m, ReportParsing.text(m["requirement"]).flatMap { requirements[$0] })) } }
        let named = Set(maps.compactMap(\.requirement).filter { $0.hasPrefix("SLP-") })
        let control: String
        if let wanted {
            control = wanted
        } else if named.count == 1, let only = named.first {
            control = only
        } else {
            return ReportParsing.failure(
                file, "declarations.attestations",
                named.isEmpty
                    ? "maps no requirement whose identifier is a Sleeper control: say which control it proves (--control)"
                    : "maps several Sleeper controls (\(named.sorted().joined(separator: ", "))): say which one to record (--control)")
        }
        let chosen = maps.contains { $0.requirement == control } ? maps.filter { $0.requirement == control } : maps
        var findings: [String] = [], targets: [String] = [], digests: [String] = []
        var created: [Date] = [], expires: [Date] = []
        var conforms = true
        for (entry, requirement) in chosen {
            let label = requirement ?? ReportParsing.text(entry["requirement"]) ?? "requirement"
            let score = ReportParsing.number(entry["conformance"]["score"])
            let counter = entry["counterClaims"].elements?.count ?? 0
            let claimRefs = (entry["claims"].elements ?? []).compactMap { ReportParsing.text($0) }
            if claimRefs.isEmpty { conforms = false; findings.append("\(label): no claim") }
            if counter > 0 { conforms = false; findings.append("\(label): \(counter) counter-claim(s)") }
            if let score, score < rules.declarationsMinConformance { conforms = false; findings.append("\(label): conformance \(score)") }
            if score == nil { conforms = false; findings.append("\(label): no conformance score") }
            for ref in claimRefs {
                guard let claim = claims[ref] else { return ReportParsing.failure(file, entry["claims"].path, "names claim '\(ref)', which declarations.claims does not hold") }
                if let target = ReportParsing.text(claim["target"]), let component = components[target] {
                    targets.append(ReportParsing.text(component["name"]) ?? target)
                    for hash in component["hashes"].elements ?? [] where ReportParsing.text(hash["alg"])?.uppercased() == "SHA-256" {
                        if let content = ReportParsing.text(hash["content"])?.lowercased() { digests.append("sha256:" + content) }
                    }
                }
                for evRef in (claim["evidence"].elements ?? []).compactMap({ ReportParsing.text($0) }) {
                    guard let ev = evidence[evRef] else { return ReportParsing.failure(file, claim["evidence"].path, "names evidence '\(evRef)', which declarations.evidence does not hold") }
                    for (field, into) in [("created", 0), ("expires", 1)] {
                        guard let text = ReportParsing.text(ev[field]) else { continue }
                        guard let date = Timestamps.parse(text) else { return ReportParsing.failure(file, ev[field].path, "'\(text)' is not a date-time") }
                        if into == 0 { created.append(date) } else { expires.append(date) }
                    }
                }
            }
        }
        guard !targets.isEmpty else {
            return ReportParsing.failure(file, "declarations.claims", "names no model: no claim of the attestation targets a component (declarations.targets.components)")
        }
        return .success(
            TestReport(
                format: .cyclonedxDeclarations, toolVersion: spec, control: control, result: conforms ? .pass : .fail,
                rule:
                    "passes when every attested requirement has a claim, conformance of at least \(rules.declarationsMinConformance) and no counter-claim (\(rules.cite("cyclonedx-declarations.min_conformance")))",
                summary: "\(chosen.count) attested requirement(s) for \(control) on \(Array(Set(targets)).sorted().joined(separator: ", ")); the BOM's signatures are not verified by Sleeper",
                findings: Array(findings.prefix(TestReport.maximumFindings)),
                time: created.max().map { .stated($0) } ?? .none, expires: expires.min(),
                target: Array(Set(targets)).sorted().joined(separator: ", "), files: [], statedDigests: Array(Set(digests)).sorted()))
    }
}
