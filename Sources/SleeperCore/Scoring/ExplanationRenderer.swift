import Foundation

/// `sleeper explain` output. JSON field names are stable: subject, score, raw, band, p, impact, hygiene,
/// impact_count, exposure_count, factors, paths, what_if.
public enum ExplanationRenderer {
    static func n(_ d: Double) -> String { String(format: "%.4f", d) }

    public static func text(_ e: ScoreExplanation) -> String {
        var out = "\(e.subject)  score \(e.score) (\(e.band)) = round(100 · min(1, raw)); raw = P \(n(e.p)) · impact \(n(e.impact)) · hygiene \(n(e.hygiene)) = \(n(e.raw))\n"
        out += "  reaches \(e.impactCount) tier 0–1 resource(s); exposed to \(e.exposureCount) model(s) with L* above the threshold\n"
        if let u = e.unreached {
            out +=
                u == .notLive
                ? "  not live: \(u.explanation)\n"
                : "  no model reaches it (\(u.rawValue)): \(u.explanation); its backdoor score says nothing of its safety\n"
        }
        out += "\n"
        out += "paths (model → agents → credential → resource): first the top path, which exposure shows (the holder that contributes\n"
        out += "most, with the upstream model of highest L* and the chain between them; not always the largest single term), then the rest largest first;\n"
        out += "a contribution is the path's term before the noisy-OR that makes P (P \(n(e.p)) ≥ the largest):\n"
        for p in e.paths.prefix(12) {
            out += "  \(p.model) → \(p.agent) → \(p.credential)\(p.resource.map { " → \($0)" } ?? "")   \(n(p.contribution))\(p.isTop ? "   (top path)" : "")\n"
        }
        if e.paths.count > 12 { out += "  … \(e.paths.count - 12) more\n" }
        out += "\nfactors:\n"
        let width = e.factors.map(\.subject.count).max() ?? 0
        for f in e.factors {
            let evidence = f.evidenceID.map { id in " [evidence \(id)\(f.evidenceExpires.map { ", expires \(Timestamps.formatDay($0))" } ?? "")]" } ?? ""
            let items = f.items.isEmpty ? "" : "  " + f.items.map(alias).joined(separator: ", ")
            out += "  \(f.subject.padding(toLength: width, withPad: " ", startingAt: 0))  \(f.name) = \(n(f.value)) (\(f.weight))\(evidence)\(items)\n"
        }
        if !e.hygieneRules.isEmpty {
            out += "\nhygiene H = 1 + the applied terms, clamped to the range in scoring.yaml = \(n(e.hygiene)):\n"
            for r in e.hygieneRules {
                out += "  \(r.applied ? (r.value >= 0 ? "+" : "−") : "·") \(r.name) \(r.applied ? String(format: "%.2f", abs(r.value)) : "")  \(r.why)\n"
            }
        }
        out += "\nwhat would lower it most (valid evidence of):\n"
        if e.whatIf.isEmpty { out += "  nothing upstream: no missing model or agent control would lower it\n" }
        for w in e.whatIf {
            out +=
                "  −\(w.reduction) → \(w.scoreAfter) (raw → \(n(w.rawAfter)))  \(w.control) on \(w.subject) (now \(w.status))  \(w.items.filter { $0.hasPrefix("owasp-agentic") || $0.hasPrefix("atlas") }.prefix(4).map(alias).joined(separator: ", "))\n"
        }
        return out
    }

    /// ASI04, ASI06 and ASI10 are what guidance cites as "A2"; say so where they appear.
    static func alias(_ item: String) -> String {
        ["owasp-agentic:ASI04", "owasp-agentic:ASI06", "owasp-agentic:ASI10"].contains(item) ? "\(item) (A2)" : item
    }

    public static func json(_ e: ScoreExplanation) -> String {
        func s(_ x: String?) -> String { x.map(JSONText.string) ?? "null" }
        func list(_ xs: [String]) -> String { "[" + xs.map(JSONText.string).joined(separator: ", ") + "]" }
        let factors = e.factors.map { f in
            "{\"subject\": \(s(f.subject)), \"name\": \(s(f.name)), \"value\": \(JSONText.number(f.value)), \"weight\": \(s(f.weight)), "
                + "\"evidence_id\": \(f.evidenceID.map(String.init) ?? "null"), \"evidence_expires\": \(s(f.evidenceExpires.map(Timestamps.format))), "
                + "\"items\": \(list(f.items)), \"aliases\": \(list(f.items.filter { alias($0) != $0 }.map { _ in "owasp-agentic:A2" }))}"
        }
        let paths = e.paths.map { p in
            "{\"model\": \(s(p.model)), \"agent\": \(s(p.agent)), \"credential\": \(s(p.credential)), \"resource\": \(s(p.resource)), \"contribution\": \(JSONText.number(p.contribution)), \"top\": \(p.isTop)}"
        }
        let whatIf = e.whatIf.map { w in
            "{\"subject\": \(s(w.subject)), \"control\": \(s(w.control)), \"status\": \(s(w.status)), \"score_after\": \(w.scoreAfter), \"reduction\": \(w.reduction), \"raw_after\": \(JSONText.number(w.rawAfter)), \"items\": \(list(w.items))}"
        }
        let hygiene = e.hygieneRules.map { r in
            "{\"name\": \(s(r.name)), \"applied\": \(r.applied), \"value\": \(JSONText.number(r.value)), \"why\": \(s(r.why))}"
        }
        return "{\"subject\": \(s(e.subject)), \"score\": \(e.score), \"raw\": \(JSONText.number(e.raw)), \"band\": \(s(e.band.rawValue)), \"p\": \(JSONText.number(e.p)), "
            + "\"impact\": \(JSONText.number(e.impact)), \"hygiene\": \(JSONText.number(e.hygiene)), \"impact_count\": \(e.impactCount), "
            + "\"exposure_count\": \(e.exposureCount), \"unreached\": \(s(e.unreached?.rawValue)),\n \"factors\": [\n  " + factors.joined(separator: ",\n  ") + "],\n"
            + " \"paths\": [\n  " + paths.joined(separator: ",\n  ") + "],\n \"hygiene_terms\": [\n  " + hygiene.joined(separator: ",\n  ") + "],\n"
            + " \"what_if\": [\n  " + whatIf.joined(separator: ",\n  ") + "]}\n"
    }
}
