import Foundation

/// Reads the AWS IAM credential report (CSV, 22 columns in a fixed order). Each active access key
/// becomes a credential `aws:ACCOUNT:USER:key1|key2` owned by its IAM user, with its last rotation
/// and last use (`N/A`: never used). The root account's row and users who only sign in to the
/// console are reported, not imported: they are people, not non-human identities.
public enum AWSCredentialReportReader {
    public static let columns = [
        "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
        "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
        "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
        "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
        "cert_2_active", "cert_2_last_rotated",
    ]
    public static let edges: Set<String> = []
    public static let fields: [EntityKind: [String]] = [.credentials: ["kind", "provider", "owner", "created_at", "last_rotated_at", "last_used_at", "state"]]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        var problems: [InventoryProblem] = []
        var credentials: [Inventory.Credential] = []
        var accounts: Set<String> = []
        var root: [String] = [], consoleOnly = 0, inactive = 0
        var line = 0
        let tooLong = CSVLines.forEach(data) { fields in
            line += 1
            if line == 1 {
                let header = fields.all
                if header != columns {
                    let missing = columns.filter { !header.contains($0) }
                    problems.append(
                        InventoryProblem(
                            file: file, path: "line 1",
                            message: missing.isEmpty
                                ? "the columns are not those of an AWS IAM credential report, in its order (\(columns.joined(separator: ",")))"
                                : "missing column(s) \(missing.joined(separator: ", ")) of an AWS IAM credential report"))
                    return false
                }
                return true
            }
            guard fields.count == columns.count else {
                problems.append(InventoryProblem(file: file, path: "line \(line)", message: "has \(fields.count) fields, not \(columns.count) (a truncated or edited report?)"))
                return problems.count < 1000
            }
            let user = fields[0]
            if user == "<root_account>" {
                let active = [8, 13].filter { fields.is($0, "true", ignoringCase: true) }.count
                root.append(active > 0 ? "the root account has \(active) active access key(s): delete them (they are not imported)" : "the root account has no access keys")
                return true
            }
            let arn = fields[1].split(separator: ":", omittingEmptySubsequences: false)
            guard arn.count >= 6, arn[0] == "arn", arn[2] == "iam" else {
                problems.append(InventoryProblem(file: file, path: "line \(line): arn", message: "is not an IAM user ARN"))
                return problems.count < 1000
            }
            let account = String(arn[4])
            accounts.insert(account)
            var keys = 0
            for (slot, base) in [(1, 8), (2, 13)] {
                let active = fields.is(base, "true", ignoringCase: true)
                if !active {
                    if !fields.is(base, "false", ignoringCase: true) {
                        problems.append(InventoryProblem(file: file, path: "line \(line): \(columns[base])", message: "'\(fields[base])' is not true or false"))
                        continue
                    }
                    // No key in this slot at all.
                    if fields.is(base + 1, "N/A") { continue }
                    // An inactive key still exists: kept with its state, not live.
                    inactive += 1
                }
                keys += 1
                let rotated = date(fields[base + 1], file, line, columns[base + 1], &problems)
                let key = SourceKeys.key("aws:", account, ":", user, ":key", String(slot))
                var credential = Inventory.Credential(
                    key: key, kind: .accessKey, provider: "aws", owner: user,
                    createdAt: rotated, lastRotatedAt: rotated,
                    lastUsedAt: date(fields[base + 2], file, line, columns[base + 2], &problems))
                credential.state = active ? .active : .disabled
                credentials.append(credential)
            }
            if keys == 0 && fields.is(3, "true", ignoringCase: true) { consoleOnly += 1 }
            return problems.count < 1000
        }
        if let tooLong {
            problems.append(
                InventoryProblem(file: file, path: "line \(tooLong)", message: "is longer than \(CSVLines.maximumRow) bytes: not a row of an AWS IAM credential report (reading stopped there)"))
        } else if line == 0 {
            problems.append(InventoryProblem(file: file, path: "", message: "is empty: not an AWS IAM credential report"))
        }
        var findings = root
        if consoleOnly > 0 { findings.append("\(consoleOnly) user(s) sign in to the console only: people, not imported") }
        if inactive > 0 { findings.append("\(inactive) inactive access key(s) imported as disabled: not live, scored 0, listed apart") }
        let name = source ?? (accounts.count == 1 ? "aws:\(accounts.first ?? "")" : "aws:" + SourceKeys.key(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent))
        let origin = SourceOrigin(format: .awsCredentialReport, name: name, fields: fields, edges: edges, findings: findings)
        return ParsedInventory(file: file, origin: origin, inventory: Inventory(credentials: credentials), problems: problems)
    }

    /// A report date: ISO 8601 (`2026-11-02T10:15:00+00:00`), or nil for `N/A`, `no_information`, `not_supported`.
    static func date(_ text: String, _ file: String, _ line: Int, _ column: String, _ problems: inout [InventoryProblem]) -> Date? {
        if text == "N/A" || text == "no_information" || text == "not_supported" || text.isEmpty { return nil }
        if let date = Timestamps.parse(text) { return date }
        problems.append(InventoryProblem(file: file, path: "line \(line): \(column)", message: "'\(text)' is not a date (ISO 8601, or N/A)"))
        return nil
    }
}

/// One CSV row: its fields' bytes, decoded to text only when asked for (a credential report row
/// has 22 fields, of which a reader needs a few).
struct CSVRow {
    fileprivate var bytes: [UInt8] = []
    fileprivate var ends: [Int] = []
    var count: Int { ends.count }
    subscript(_ i: Int) -> String {
        let start = i == 0 ? 0 : ends[i - 1]
        return String(decoding: bytes[start..<ends[i]], as: UTF8.self)
    }
    /// Whether field `i` is `text` (ASCII), without decoding it.
    func `is`(_ i: Int, _ text: StaticString, ignoringCase: Bool = false) -> Bool {
        let start = i == 0 ? 0 : ends[i - 1]
        guard ends[i] - start == text.utf8CodeUnitCount else { return false }
        let want = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        for (j, b) in want.enumerated() {
            var have = bytes[start + j]
            if ignoringCase && have >= 65 && have <= 90 { have += 32 }
            if have != b { return false }
        }
        return true
    }
    var all: [String] { (0..<count).map { self[$0] } }
}

/// Splits CSV text into rows of fields (RFC 4180 quoting), calling `row` until it returns false.
enum CSVLines {
    /// The longest row read: a credential report's row is a few hundred bytes, so a longer one is
    /// not a report (a 2 GB line in a column nobody reads once cost 4 GB to import).
    static let maximumRow = 64 << 10

    /// Calls `row` with each row until it returns false; returns the number of a row longer than
    /// `maximumRow` bytes, where reading stopped, or nil.
    @discardableResult
    static func forEach(_ data: Data, _ row: (CSVRow) -> Bool) -> Int? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var current = CSVRow()
            var quoted = false, fieldStarted = false, i = 0, rows = 1
            let n = bytes.count
            if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
            func endField() { current.ends.append(current.bytes.count); fieldStarted = false }
            while i < n {
                let c = bytes[i]
                if current.bytes.count > maximumRow { return rows }
                if quoted {
                    if c == 34 {
                        if i + 1 < n && bytes[i + 1] == 34 { current.bytes.append(34); i += 1 } else { quoted = false }
                    } else {
                        current.bytes.append(c)
                    }
                } else if c == 34 && !fieldStarted {
                    quoted = true
                    fieldStarted = true
                } else if c == 44 {
                    endField()
                } else if c == 10 || c == 13 {
                    if c == 13 && i + 1 < n && bytes[i + 1] == 10 { i += 1 }
                    endField()
                    if !(current.count == 1 && current.bytes.isEmpty) { if !row(current) { return nil } }
                    rows += 1
                    current.bytes.removeAll(keepingCapacity: true)
                    current.ends.removeAll(keepingCapacity: true)
                } else {
                    current.bytes.append(c)
                    fieldStarted = true
                }
                i += 1
            }
            if !current.bytes.isEmpty || !current.ends.isEmpty {
                endField()
                _ = row(current)
            }
            return nil
        }
    }
}
