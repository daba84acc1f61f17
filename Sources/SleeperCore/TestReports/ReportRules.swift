import Foundation

/// The rules of `Controls/report-rules.yaml`: which control each tool's report proves, and what
/// makes it a pass or a fail. Every value is checked when the file is read, so that a typo in a
/// severity never turns every scan into a pass.
public struct ReportRules: Sendable, Equatable {
    public var file: String
    /// The zone of report times written without one, and its name as given (for the notes).
    public var zoneless: TimeZone
    public var zonelessName: String
    public var modelscan: Severity<ModelscanSeverity>
    public var fickling: Severity<FicklingSeverity>
    public var picklescan: Picklescan
    public var garak: Garak
    public var promptfoo: Promptfoo
    public var declarationsMinConformance: Double
    public var sleeperModelScan: Severity<ScanSeverity>
    public var datasetScan: TriggerThresholds

    /// A scanner judged by the worst severity it found.
    public struct Severity<Level: Sendable & Equatable>: Sendable, Equatable {
        public var control: String
        public var failAt: Level
        public var refuseErrors: Bool
    }

    public struct Picklescan: Sendable, Equatable {
        public var control: String
        public var failOnSuspicious: Bool
        public var refuseErrors: Bool
    }

    public struct Garak: Sendable, Equatable {
        public var control: String
        public var probes: [String]
        public var maxFailureRate: Double

        /// Whether a probe (`module.Class`) is one the rule counts.
        public func counts(_ probe: String) -> Bool {
            probes.contains { $0 == "*" || probe == $0 || probe.hasPrefix($0 + ".") }
        }
    }

    public struct Promptfoo: Sendable, Equatable {
        public var control: String
        public var maxFailureRate: Double
        public var redteamOnly: Bool
    }

    /// Where the rules of a format are written, for the notes: `report-rules.yaml garak.max_failure_rate`.
    public func cite(_ field: String) -> String { "\(file) \(field)" }

    public static func read(_ data: Data, file: String = "report-rules.yaml") -> Result<ReportRules, InventoryProblems> {
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file)
        let r = DocumentCursor(value: root, path: "")
        func number(_ cursor: DocumentCursor, _ range: ClosedRange<Double>) -> Double {
            let value: Double?
            switch cursor.value {
            case .double(let d)?: value = d
            case .int(let i)?: value = Double(i)
            default: value = nil
            }
            guard let value, range.contains(value) else {
                c.report(cursor.path, "must be a number from \(range.lowerBound) to \(range.upperBound)")
                return range.upperBound
            }
            return value
        }
        func level<L: RawRepresentable & CaseIterable>(_ cursor: DocumentCursor, _ type: L.Type) -> L? where L.RawValue == String {
            if cursor.isMissing { c.report(cursor.path, "is required (one of \(L.allCases.map(\.rawValue).joined(separator: ", ")))") }
            return c.enumeration(cursor, type)
        }
        func errors(_ cursor: DocumentCursor) -> Bool {
            switch c.string(cursor) {
            case nil, "refuse": return true
            case "ignore": return false
            case let other?: c.report(cursor.path, "'\(other)' must be refuse or ignore"); return true
            }
        }
        func control(_ cursor: DocumentCursor) -> String { c.string(cursor, required: true) ?? "" }
        let zoneName = c.string(r["timestamps_without_zone"]) ?? "UTC"
        let zone = ReportTime.zone(zoneName)
        if zone == nil { c.report(r["timestamps_without_zone"].path, "'\(zoneName)' is not a time zone (an IANA name such as Europe/Paris, UTC, or an offset such as +02:00)") }
        let sm = r["sleeper-model-scan"], ds = r["sleeper-dataset-scan"]
        let ms = r["modelscan"], fk = r["fickling"], ps = r["picklescan"], gk = r["garak"], pf = r["promptfoo"]
        let pickleLevel = c.string(ps["fail_at"]) ?? "dangerous"
        if !["dangerous", "suspicious"].contains(pickleLevel) { c.report(ps["fail_at"].path, "'\(pickleLevel)' must be dangerous or suspicious") }
        let probes = c.list(gk["probes"]).compactMap { c.string($0) }
        if probes.isEmpty { c.report(gk["probes"].path, "must list at least one probe (\"*\" counts them all)") }
        let rules = ReportRules(
            file: file, zoneless: zone ?? TimeZone(secondsFromGMT: 0) ?? .current, zonelessName: zone == nil ? "UTC" : zoneName,
            modelscan: .init(control: control(ms["control"]), failAt: level(ms["fail_at"], ModelscanSeverity.self) ?? .low, refuseErrors: errors(ms["errors"])),
            fickling: .init(control: control(fk["control"]), failAt: level(fk["fail_at"], FicklingSeverity.self) ?? .possiblyUnsafe, refuseErrors: true),
            picklescan: .init(control: control(ps["control"]), failOnSuspicious: pickleLevel == "suspicious", refuseErrors: errors(ps["errors"])),
            garak: .init(control: control(gk["control"]), probes: probes, maxFailureRate: number(gk["max_failure_rate"], 0...1)),
            promptfoo: .init(
                control: control(pf["control"]), maxFailureRate: number(pf["max_failure_rate"], 0...1),
                redteamOnly: c.bool(pf["redteam_only"]) ?? true),
            declarationsMinConformance: number(r["cyclonedx-declarations"]["min_conformance"], 0...1),
            sleeperModelScan: .init(control: control(sm["control"]), failAt: level(sm["fail_at"], ScanSeverity.self) ?? .info, refuseErrors: true),
            datasetScan: TriggerThresholds(
                control: control(ds["control"]), minSupport: Int(number(ds["min_support"], 2...1_000_000)),
                maxShare: number(ds["max_share"], 0.0001...0.5), minConfidence: number(ds["min_confidence"], 0.5...1),
                minLift: number(ds["min_lift"], 1...1_000_000), minSpread: Int(number(ds["min_spread"], 1...64))))
        return c.problems.isEmpty ? .success(rules) : .failure(InventoryProblems(c.problems))
    }
}

/// modelscan's severities, lowest first.
public enum ModelscanSeverity: String, CaseIterable, Sendable, Comparable {
    case low = "LOW", medium = "MEDIUM", high = "HIGH", critical = "CRITICAL"
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// fickling's severities, lowest first.
public enum FicklingSeverity: String, CaseIterable, Sendable, Comparable {
    case likelySafe = "LIKELY_SAFE", possiblyUnsafe = "POSSIBLY_UNSAFE", suspicious = "SUSPICIOUS", likelyUnsafe = "LIKELY_UNSAFE"
    case likelyOvertlyMalicious = "LIKELY_OVERTLY_MALICIOUS", overtlyMalicious = "OVERTLY_MALICIOUS"
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}
