/// How much a finding of the model scan weighs, lowest first. `malformed`: the file is not what
/// its format requires (a cut-short pickle still runs every opcode before the cut, a hole in a
/// safetensors file can carry a second payload), so it cannot be called clean.
public enum ScanSeverity: String, CaseIterable, Sendable, Comparable, Codable {
    case info, suspicious, malformed, dangerous
    public static func < (a: Self, b: Self) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }
}

/// One thing the model scan found in one file (or one entry of an archive).
public struct ScanFinding: Sendable, Equatable, Codable {
    public var severity: ScanSeverity
    /// The archive entry it is in (`archive/data.pkl`), nil for the file itself.
    public var entry: String?
    /// Byte offset in the file or entry, where the finding has one (a pickle opcode).
    public var offset: Int?
    /// What was found: the imported callable (`os.system`), or the check (`safetensors-layout`).
    public var what: String
    public var detail: String

    public init(_ severity: ScanSeverity, entry: String? = nil, offset: Int? = nil, what: String, detail: String) {
        (self.severity, self.entry, self.offset, self.what, self.detail) = (severity, entry, offset, what, detail)
    }
}
