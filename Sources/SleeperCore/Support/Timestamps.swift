import Foundation

/// Dates in files and on the command line: `YYYY-MM-DD` (midnight UTC) or ISO 8601 date-times.
public enum Timestamps {
    public static func parse(_ text: String) -> Date? {
        // Trimming goes through NSString on Linux; most dates have nothing to trim.
        let padded = text.first.map { $0 == " " || $0 == "\t" } == true || text.last.map { $0 == " " || $0 == "\t" } == true
        let s = padded ? text.trimmingCharacters(in: .whitespaces) : text
        if s.utf8.count == 10 { return day(s) }
        // A date-time must start with a real day: lenient parsing would turn 2025-13-45 into 2026.
        guard s.utf8.count >= 10, let date = day(String(s.prefix(10))) else { return nil }
        if let time = secondsOfDay(s) { return date.addingTimeInterval(time) }
        if let d = try? Date(s, strategy: .iso8601) { return d }
        if let d = try? Date(s, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        // YAML-style "2025-01-10 12:00:00Z" and offsets like "+02:00".
        if s.contains(" ") { return parse(s.replacingOccurrences(of: " ", with: "T")) }
        return nil
    }

    /// `YYYY-MM-DD` as midnight UTC, checked field by field. Computed directly (days from the civil
    /// date) because formatter-based parsing costs microseconds and imports carry millions of dates.
    public static func day(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10), (1...12).contains(m), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        // Howard Hinnant's days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Date(timeIntervalSince1970: TimeInterval(days) * 86400)
    }

    /// The common shapes `YYYY-MM-DDTHH:MM:SSZ` and `…SS+HH:MM` read without a formatter (a million-row
    /// credential report has two million of them): seconds since the day's midnight UTC, or nil
    /// for any other shape, left to the formatter.
    static func secondsOfDay(_ s: String) -> TimeInterval? {
        let b = Array(s.utf8)
        guard b.count == 20 || b.count == 25, b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let h = digits(11..<13), let m = digits(14..<16), let sec = digits(17..<19), h < 24, m < 60, sec < 60 else { return nil }
        var offset = 0
        if b.count == 25 {
            guard b[19] == UInt8(ascii: "+") || b[19] == UInt8(ascii: "-"), b[22] == UInt8(ascii: ":"),
                let oh = digits(20..<22), let om = digits(23..<25), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[19] == UInt8(ascii: "-") ? -1 : 1)
        } else if b[19] != UInt8(ascii: "Z") {
            return nil
        }
        return TimeInterval(h * 3600 + m * 60 + sec - offset)
    }

    /// A point in time to answer "as of": a day alone means the end of that day, UTC (its last
    /// second; Sleeper records times to the second), so that "as of today" includes today and a
    /// quarter-end query includes the quarter's last day. A date-time means itself.
    public static func moment(_ text: String) -> Date? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.utf8.count == 10 { return day(s).map { $0.addingTimeInterval(86400 - 1) } }
        return parse(s)
    }

    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    public static func formatDay(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
