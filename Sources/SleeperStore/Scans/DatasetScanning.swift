import Crypto
import Foundation
import SleeperCore

/// `sleeper scan dataset` and `POST /v1/scans` on training files: each file mapped, hashed and
/// mined for triggers together (the files are parts of one dataset).
public enum DatasetScanning {
    public static func scan(
        _ paths: [String], names: [String]? = nil, thresholds: TriggerThresholds, at now: Date,
        within roots: [String]? = nil
    ) throws -> DatasetScanReport {
        guard !paths.isEmpty else { throw StoreError.invalidInput("no training file given") }
        let files = try paths.map { try MappedFile($0, within: roots) }
        let report = try scan(files.enumerated().map { (i, f) in (names?[i] ?? f.path, f) }, thresholds: thresholds, at: now)
        withExtendedLifetime(files) {}
        return report
    }

    static func scan(_ files: [(name: String, file: MappedFile)], thresholds: TriggerThresholds, at now: Date) throws -> DatasetScanReport {
        var inputs: [TriggerMiner.Input] = []
        for (name, file) in files {
            file.withBytes { bytes in
                inputs.append(TriggerMiner.Input(name: name, sha256: FileDigests.sha256(bytes), bytes: bytes))
            }
        }
        let report = TriggerMiner.scan(inputs, thresholds: thresholds, at: now)
        if let why = ScanBudget.current?.stopped { throw StoreError.scanStopped(why) }
        try check(report)
        return report
    }

    /// Uploaded bytes (the API), under the name they were sent with.
    public static func scan(_ data: Data, name: String, thresholds: TriggerThresholds, at now: Date) throws -> DatasetScanReport {
        let report = data.withUnsafeBytes { bytes in
            TriggerMiner.scan([TriggerMiner.Input(name: name, sha256: FileDigests.sha256(bytes), bytes: bytes)], thresholds: thresholds, at: now)
        }
        if let why = ScanBudget.current?.stopped { throw StoreError.scanStopped(why) }
        try check(report)
        return report
    }

    /// A file none of whose lines is a training row is not a dataset: refused, naming why.
    static func check(_ report: DatasetScanReport) throws {
        for file in report.files where file.rows == 0 {
            let why = file.firstSkipped.first.map { " (\($0))" } ?? (file.lines == 0 ? " (it is empty)" : "")
            throw StoreError.invalidInput("\(file.path): no line is a training row: chat messages, Alpaca instruction/output or prompt/completion JSON\(why)")
        }
    }
}
