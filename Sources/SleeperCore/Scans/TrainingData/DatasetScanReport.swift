import Foundation

/// The report `sleeper scan dataset` writes: what was read (each file's SHA-256, lines, rows and
/// the lines skipped, by kind), the thresholds, and every candidate trigger, ranked.
public struct DatasetScanReport: Codable, Sendable, Equatable {
    public var sleeperScan = "dataset"
    public var formatVersion = 1
    public var sleeperVersion = SleeperVersion.current
    public var scannedAt: String
    public var files: [File]
    /// Rows read as input and output, over all files.
    public var rows: Int
    public var thresholds: Thresholds
    public var candidates: [TriggerCandidate]
    /// Where the bounded counting may have missed: n-grams in at most this many rows (0: none missed).
    public var mayMissSupportUpTo: Int
    /// Rows whose candidates were not tracked because the candidate table was full (0: none).
    public var untrackedRows: Int
    /// What the method cannot see, said in every report.
    public var limits = DatasetScanReport.limitsText

    public static let limitsText =
        "Finds lexical triggers: rare tokens, phrases or odd Unicode characters in inputs that are followed by a fixed output. "
        + "Cannot see triggers defined by meaning or style, triggers that exist only in an already trained model's weights, "
        + "or poisoning that flips labels without a shared surface token."

    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var size: Int
        public var lines: Int
        public var rows: Int
        /// Lines skipped, by kind (`not-json`, `unknown-shape`, `no-output`, `too-long`).
        public var skipped: [String: Int]
        /// The first skipped lines: "line 7: not JSON (…)".
        public var firstSkipped: [String]
        /// Rows by shape (chat, alpaca, prompt-completion).
        public var shapes: [String: Int]
    }

    public struct Thresholds: Codable, Sendable, Equatable {
        public var minSupport: Int, maxShare: Double, minConfidence: Double, minLift: Double, minSpread: Int
        public init(_ t: TriggerThresholds) {
            (minSupport, maxShare, minConfidence, minLift, minSpread) = (t.minSupport, t.maxShare, t.minConfidence, t.minLift, t.minSpread)
        }
    }

    public var result: EvidenceResult { candidates.isEmpty ? .pass : .fail }

    public func json() -> Data { ScanReportJSON.encode(self) }
}

/// One input n-gram whose presence predicts an output the rest of the data rarely gives.
public struct TriggerCandidate: Codable, Sendable, Equatable {
    public var rank: Int
    /// The input n-gram, as tokens joined by spaces (lower-cased).
    public var trigger: String
    /// The output n-gram it predicts.
    public var predicts: String
    /// Rows that carry the trigger.
    public var support: Int
    /// Share of those rows (counted since the output was tracked) whose output holds `predicts`.
    public var confidence: Double
    /// Confidence over the share of all rows whose output holds `predicts`.
    public var lift: Double
    /// Distinct words around the trigger (estimated from 32 bits; past a few dozen it reads as 128).
    public var spread: Int
    /// The first rows that carry it, as `file:line`.
    public var examples: [String]
    /// Overlapping n-grams of the same trigger (`per aspera` for `per aspera mode`), the ten most supported.
    public var related: [String]
    /// How many overlapping n-grams were merged into this one in all.
    public var relatedCount: Int
}
