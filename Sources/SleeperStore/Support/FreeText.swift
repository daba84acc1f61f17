import SleeperCore

/// Text a person writes that is stored as it is — a reason, who approved, who started an
/// action — checked where it is stored, whichever command or route it came through: not empty,
/// within the column's length (counted in characters, as PostgreSQL counts them), no NUL, and
/// never secret material. The error names the field, never the value.
enum FreeText {
    /// A name: who recalled, approved or started something.
    static let name = 200
    /// A sentence or a paragraph: why.
    static let reason = 4096

    static func require(_ value: String, _ field: String, max: Int) throws {
        guard !value.allSatisfy(\.isWhitespace) else { throw StoreError.invalidInput("\(field): must not be empty") }
        guard value.count <= max else { throw StoreError.invalidInput("\(field): at most \(max) characters, got \(value.count)") }
        guard !value.utf8.contains(0) else { throw StoreError.invalidInput("\(field): contains a NUL character") }
        if let kind = SecretScanner.secretKind(of: value, field: field) {
            throw StoreError.invalidInput("\(field): looks like secret material (\(kind)); the value is not shown and nothing was written")
        }
    }
}
