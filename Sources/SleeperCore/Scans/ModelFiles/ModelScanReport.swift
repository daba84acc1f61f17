import Foundation

/// How Sleeper writes its scan reports: snake_case keys, sorted, so that one scan of the same
/// bytes at the same time gives the same bytes (the evidence's artifact is their hash).
enum ScanReportJSON {
    static func encode(_ report: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(report)).map { $0 + Data("\n".utf8) } ?? Data()
    }
}

/// The report `sleeper scan model` writes: what was scanned (each file's SHA-256, the model digest
/// over them as OpenSSF model signing computes it), the format each file's bytes say, and every
/// finding. It is the evidence's artifact, and `sleeper evidence ingest` reads it back.
public struct ModelScanReport: Codable, Sendable, Equatable {
    /// What kind of Sleeper scan this is ("model"): how a reader tells the report apart.
    public var sleeperScan = "model"
    public var formatVersion = 1
    public var sleeperVersion: String
    public var scannedAt: String
    /// The path scanned, as given.
    public var target: String
    public var digest: String
    public var files: [File]

    public struct File: Codable, Sendable, Equatable {
        /// Relative to the scanned directory (the file's own name when a file was scanned).
        public var path: String
        public var sha256: String
        public var size: Int
        public var format: String
        public var pickles: Int
        public var findings: [ScanFinding]
        public init(path: String, sha256: String, size: Int, format: ModelFileFormat, pickles: Int, findings: [ScanFinding]) {
            (self.path, self.sha256, self.size, self.format, self.pickles, self.findings) = (path, sha256, size, format.rawValue, pickles, findings)
        }
    }

    public init(target: String, scannedAt: Date, files: [File]) {
        self.sleeperVersion = SleeperVersion.current
        self.scannedAt = Timestamps.format(scannedAt)
        self.target = target
        self.files = files.sorted { $0.path < $1.path }
        self.digest = ModelDigest.of(files: Dictionary(files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a }))
    }

    public var findings: [(file: String, finding: ScanFinding)] { files.flatMap { f in f.findings.map { (f.path, $0) } } }
    public var worst: ScanSeverity? { findings.map(\.finding.severity).max() }

    public func count(_ severity: ScanSeverity) -> Int { findings.filter { $0.finding.severity == severity }.count }

    /// One finding in one line: `model.pt:archive/data.pkl@54 dangerous posix.system (…)`.
    public static func line(_ file: String, _ f: ScanFinding) -> String {
        "\(file)\(f.entry.map { ":" + $0 } ?? "")\(f.offset.map { "@\($0)" } ?? "") \(f.severity.rawValue) \(f.what): \(f.detail)"
    }

    /// The report as JSON.
    public func json() -> Data { ScanReportJSON.encode(self) }

    public static func decode(_ data: Data) throws -> ModelScanReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ModelScanReport.self, from: data)
    }
}
