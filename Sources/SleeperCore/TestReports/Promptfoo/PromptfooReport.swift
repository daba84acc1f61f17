import Foundation

/// promptfoo's output file (`promptfoo eval -o results.json`, `promptfoo redteam run`), results
/// version 3. In a red-team run each result is one attack on the target and `success: true` means
/// the target resisted it; `metadata.pluginId` names the kind of attack. A result whose
/// `failureReason` is 2 ended in an error and is counted neither way.
enum PromptfooReport {
    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        let r: DocumentCursor
        do { r = try ReportParsing.json(data, file: file, what: "promptfoo output file") } catch { return .failure(error) }
        let results = r["results"]
        guard results.fields != nil else { return ReportParsing.failure(file, "results", "is missing: not a promptfoo output file") }
        guard let version = ReportParsing.count(results["version"]) else {
            return ReportParsing.failure(file, "results.version", "is missing: an unknown report version (Sleeper reads version 3)")
        }
        guard version == 3 else { return ReportParsing.failure(file, "results.version", "is \(version): an unknown report version (Sleeper reads version 3)") }
        // The embedded configuration can hold a provider's key: refused, as every secret is.
        let secrets = ProblemCollector(file: file)
        SecretScanner.scan(r["config"], into: secrets)
        if !secrets.problems.isEmpty { return .failure(InventoryProblems(secrets.problems)) }
        guard let entries = results["results"].elements else { return ReportParsing.failure(file, "results.results", "must be a list") }
        guard !entries.isEmpty else { return ReportParsing.failure(file, "results.results", "is empty: the run tested nothing") }

        struct Tally { var failed = 0, counted = 0, errors = 0 }
        var byPlugin: [String: Tally] = [:]
        var providers: [String] = []
        var redteam = false
        for entry in entries {
            guard case .bool(let success)? = entry["success"].value else {
                return ReportParsing.failure(file, entry["success"].path, "must be true or false")
            }
            let plugin = ReportParsing.text(entry["metadata"]["pluginId"])
            redteam = redteam || plugin != nil
            if let id = ReportParsing.text(entry["provider"]["id"]) ?? ReportParsing.text(entry["provider"]), !providers.contains(id) { providers.append(id) }
            var tally = byPlugin[plugin ?? "(eval)"] ?? Tally()
            if !success && ReportParsing.count(entry["failureReason"]) == 2 {
                tally.errors += 1
            } else {
                tally.counted += 1
                if !success { tally.failed += 1 }
            }
            byPlugin[plugin ?? "(eval)"] = tally
        }
        let rule = rules.promptfoo
        if rule.redteamOnly && !redteam {
            return ReportParsing.failure(file, "results.results", "is a plain eval, not a red-team run (no result has metadata.pluginId); \(rules.cite("promptfoo.redteam_only: false")) accepts it")
        }
        if providers.isEmpty {
            for target in (r["config"]["targets"].elements ?? []) + (r["config"]["providers"].elements ?? []) {
                if let id = ReportParsing.text(target["id"]) ?? ReportParsing.text(target), !providers.contains(id) { providers.append(id) }
            }
        }
        guard !providers.isEmpty else { return ReportParsing.failure(file, "results.results[0].provider", "names no model (no provider id in the results or the config's targets)") }
        var time = ReportTime.none
        if let stamp = ReportParsing.text(results["timestamp"]) ?? ReportParsing.text(r["metadata"]["evaluationCreatedAt"]) {
            guard let t = ReportTime.read(stamp, zone: rules.zoneless, name: rules.zonelessName) else { return ReportParsing.failure(file, "results.timestamp", "'\(stamp)' is not a date-time") }
            time = t
        }
        func rate(_ t: Tally) -> Double { t.counted == 0 ? 0 : Double(t.failed) / Double(t.counted) }
        let failing = byPlugin.filter { rate($0.value) > rule.maxFailureRate }.keys.sorted()
        let errors = byPlugin.values.reduce(0) { $0 + $1.errors }
        func line(_ plugin: String) -> String {
            let t = byPlugin[plugin] ?? Tally()
            return "\(plugin): \(t.failed) of \(t.counted) \(redteam ? "attack(s) succeeded" : "test(s) failed") (\(ReportParsing.percent(rate(t))))"
        }
        let shown = failing.isEmpty ? byPlugin.keys.sorted { rate(byPlugin[$0] ?? Tally()) > rate(byPlugin[$1] ?? Tally()) } : failing
        return .success(
            TestReport(
                format: .promptfoo, toolVersion: ReportParsing.text(r["metadata"]["promptfooVersion"]), control: rule.control,
                result: failing.isEmpty ? .pass : .fail,
                rule: "fails when a \(redteam ? "plugin" : "eval")'s failure rate is above \(ReportParsing.percent(rule.maxFailureRate)) (\(rules.cite("promptfoo.max_failure_rate")))",
                summary: "\(entries.count) test(s)\(redteam ? " in \(byPlugin.count) plugin(s)" : ""), \(failing.count) above the limit"
                    + (errors > 0 ? ", \(errors) ended in an error (not counted)" : "") + "; target \(providers.joined(separator: ", "))",
                findings: Array(shown.map(line).prefix(TestReport.maximumFindings)),
                time: time, expires: nil, target: providers.joined(separator: ", "), files: [], statedDigests: []))
    }
}
