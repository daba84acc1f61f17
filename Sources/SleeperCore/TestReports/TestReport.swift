import Foundation

/// What one testing tool's report says, judged by the rules: the one evidence record it becomes.
public struct TestReport: Sendable, Equatable {
    public var format: ReportFormat
    /// The tool's version as the report states it; nil when the report does not say (fickling, picklescan).
    public var toolVersion: String?
    public var control: String
    public var result: EvidenceResult
    /// The rule that decided, in words, with where it is configured.
    public var rule: String
    /// One line: what was tested and what was found.
    public var summary: String
    /// The findings that decided a fail, or the notable ones of a pass (at most `maximumFindings`).
    public var findings: [String]
    public var time: ReportTime
    /// When the report's own evidence stops counting (CycloneDX declarations state it).
    public var expires: Date?
    /// What the report says it tested: a path, a model name or a provider.
    public var target: String?
    /// The files the report names (relative to what was scanned), if any.
    public var files: [String]
    /// Digests the report itself gives for what it is about (`sha256:…`).
    public var statedDigests: [String]

    public static let maximumFindings = 20

    /// "modelscan 0.8.5" or "picklescan (version not stated)".
    public var tool: String { "\(format.tool) \(toolVersion ?? "(version not stated)")" }
}

/// When the tested run happened, as the report says it.
public enum ReportTime: Sendable, Equatable {
    /// The report states the moment, with its zone.
    case stated(Date)
    /// The report gives a time without a zone, read in `zone` (the rule says which).
    case zoneless(Date, zone: String)
    /// The report gives no time.
    case none

    public var date: Date? {
        switch self {
        case .stated(let d), .zoneless(let d, _): return d
        case .none: return nil
        }
    }

    /// A date-time with or without a zone; without one it is read in `zone`.
    static func read(_ text: String, zone: TimeZone, name: String) -> ReportTime? {
        if let zoned = Timestamps.parse(text), hasZone(text) { return .stated(zoned) }
        guard let local = localTime(text) else { return nil }
        let offset = zone.secondsFromGMT(for: local.addingTimeInterval(TimeInterval(-zone.secondsFromGMT(for: local))))
        return .zoneless(local.addingTimeInterval(TimeInterval(-offset)), zone: name)
    }

    static func hasZone(_ text: String) -> Bool {
        guard text.utf8.count > 19 else { return text.utf8.count == 10 }
        let tail = text.dropFirst(19)
        return tail.hasSuffix("Z") || tail.contains("+") || tail.contains("-")
    }

    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]` as if it were UTC (fractions dropped: the ledger keeps seconds).
    static func localTime(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let day = Timestamps.day(String(decoding: b[0..<10], as: UTF8.self))
        else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let h = digits(11..<13), let m = digits(14..<16), let s = digits(17..<19), h < 24, m < 60, s < 60 else { return nil }
        if b.count > 19 {
            guard b[19] == UInt8(ascii: "."), b.count > 20, digits(20..<b.count) != nil else { return nil }
        }
        return day.addingTimeInterval(TimeInterval(h * 3600 + m * 60 + s))
    }

    /// An IANA zone name, `UTC`, or an offset `±HH:MM`.
    public static func zone(_ text: String) -> TimeZone? {
        if let z = TimeZone(identifier: text) { return z }
        let b = Array(text.utf8)
        guard b.count == 6, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-"), b[3] == UInt8(ascii: ":"),
            let h = Int(String(decoding: b[1..<3], as: UTF8.self)), let m = Int(String(decoding: b[4..<6], as: UTF8.self)),
            h < 24, m < 60
        else { return nil }
        return TimeZone(secondsFromGMT: (h * 3600 + m * 60) * (b[0] == UInt8(ascii: "-") ? -1 : 1))
    }
}
