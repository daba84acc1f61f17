import Foundation

/// Dates in files and on the command line: `YYYY-MM-DD` (midnight UTC) or ISO 8601 date-times.
public enum Timestamps {
    public static func parse(_ text: String) -> Date? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.count == 10 {
            // Round-trip so that lenient parsing cannot turn 2025-13-45 into a date in 2026.
            guard let d = try? Date(s + "T00:00:00Z", strategy: .iso8601), formatDay(d) == s else { return nil }
            return d
        }
        if s.count >= 10, parse(String(s.prefix(10))) == nil { return nil }
        if let d = try? Date(s, strategy: .iso8601) { return d }
        if let d = try? Date(s, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        // YAML-style "2025-01-10 12:00:00Z" and offsets like "+02:00".
        if s.contains(" ") { return parse(s.replacingOccurrences(of: " ", with: "T")) }
        return nil
    }

    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    public static func formatDay(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
