import Crypto
import Foundation

public enum EvidenceResult: String, CaseIterable, Sendable, Codable {
    case pass, fail
    case notApplicable = "not-applicable"
    /// Takes back the record it supersedes without putting another result in its place.
    case withdrawn
}

/// A subject of evidence: `model:llama-3-8b`, `credential:payments-api-key`, …
public struct Subject: Sendable, Hashable, CustomStringConvertible {
    public var kind: SubjectKind
    public var key: String

    public init(kind: SubjectKind, key: String) {
        self.kind = kind
        self.key = key
    }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let kind = SubjectKind(rawValue: String(text[..<colon])) else { return nil }
        let key = String(text[text.index(after: colon)...])
        guard InventoryReader.isValidKey(key) else { return nil }
        self.init(kind: kind, key: key)
    }

    public var description: String { "\(kind.rawValue):\(key)" }
}

/// A file that proves something, identified by its hash; its content is never stored.
public struct Artifact: Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var size: Int

    public init(name: String, sha256: String, size: Int) {
        self.name = name
        self.sha256 = sha256
        self.size = size
    }

    public static func of(name: String, data: Data) -> Artifact {
        Artifact(name: name, sha256: SHA256.hash(data: data).hexEncoded, size: data.count)
    }
}

/// One entry of the ledger as stored. Times are whole seconds since the epoch so that the
/// canonical form, and so the hash, is exact whatever reads it back.
public struct EvidenceRecord: Sendable, Equatable {
    public var id: Int
    public var subject: Subject
    public var control: String
    public var result: EvidenceResult
    public var effectiveAt: Int
    public var expiresAt: Int
    public var recordedAt: Int
    public var subjectDigest: String?
    public var artifacts: [Artifact]
    public var uri: String?
    public var recordedBy: String?
    public var note: String?
    public var supersedes: Int?
    public var prevHash: String
    public var hash: String
    /// The model's files the check covered, by path (a scan report names them): a fail on a file
    /// stands until a later record covers that file. Empty: the record is about the whole subject.
    public var coveredFiles: [String] = []

    public init(
        id: Int, subject: Subject, control: String, result: EvidenceResult, effectiveAt: Int, expiresAt: Int,
        recordedAt: Int, subjectDigest: String?, artifacts: [Artifact], uri: String?, recordedBy: String?,
        note: String?, supersedes: Int?, prevHash: String, hash: String = ""
    ) {
        self.id = id
        self.subject = subject
        self.control = control
        self.result = result
        self.effectiveAt = effectiveAt
        self.expiresAt = expiresAt
        self.recordedAt = recordedAt
        self.subjectDigest = subjectDigest
        self.artifacts = artifacts
        self.uri = uri
        self.recordedBy = recordedBy
        self.note = note
        self.supersedes = supersedes
        self.prevHash = prevHash
        self.hash = hash
    }

    public static let genesisHash = String(repeating: "0", count: 64)

    /// The content the hash covers, as JSON with a fixed field order. Changing this breaks every
    /// existing chain, hence the version tag.
    public var canonicalContent: String {
        func s(_ v: String?) -> String { v.map(JSONText.string) ?? "null" }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        let artifactList = artifacts.map { "{\"name\":\(JSONText.string($0.name)),\"sha256\":\(JSONText.string($0.sha256)),\"size\":\($0.size)}" }
        return "{\"v\":\"sleeper-evidence-1\",\"id\":\(id),\"subject_kind\":\(s(subject.kind.rawValue)),\"subject_key\":\(s(subject.key)),"
            + "\"control\":\(s(control)),\"result\":\(s(result.rawValue)),\"effective_at\":\(effectiveAt),\"expires_at\":\(expiresAt),"
            + "\"recorded_at\":\(recordedAt),\"subject_digest\":\(s(subjectDigest)),\"artifacts\":[\(artifactList.joined(separator: ","))],"
            + "\"uri\":\(s(uri)),\"recorded_by\":\(s(recordedBy)),\"note\":\(s(note)),\"supersedes\":\(i(supersedes)),"
            // Present only when the record names files: every record made before files were
            // kept hashes exactly as it did.
            + (coveredFiles.isEmpty ? "" : "\"covered_files\":[\(coveredFiles.map(JSONText.string).joined(separator: ","))],")
            + "\"prev_hash\":\(s(prevHash))}"
    }

    public var computedHash: String {
        SHA256.hash(data: Data(canonicalContent.utf8)).hexEncoded
    }
}

/// Recomputes a chain and finds the first record that does not fit it.
public enum EvidenceChain {
    public struct Break: Sendable, Equatable, CustomStringConvertible {
        public var id: Int
        public var reason: String
        public var description: String { "evidence record \(id): \(reason)" }
    }

    /// `records` in id order, following record `after` whose hash was `afterHash` (the genesis for
    /// a whole chain). Checks ids run on without gaps (a gap means a deleted row), that each
    /// record's hash matches its content, and that each names its predecessor's hash.
    public static func verify(_ records: [EvidenceRecord], after: Int = 0, afterHash: String = EvidenceRecord.genesisHash) -> Break? {
        var previousHash = afterHash
        for (index, record) in records.enumerated() {
            let expectedID = after + index + 1
            if record.id != expectedID {
                return record.id > expectedID
                    ? Break(id: expectedID, reason: "is missing (deleted); the chain continues at \(record.id)")
                    : Break(id: record.id, reason: "is out of order (found after \(expectedID - 1))")
            }
            if record.hash != record.computedHash {
                return Break(id: record.id, reason: "its content does not match its hash (edited after it was recorded)")
            }
            if record.prevHash != previousHash {
                return Break(id: record.id, reason: "does not follow record \(record.id - 1) (a record before it was changed, removed or reordered)")
            }
            previousHash = record.hash
        }
        return nil
    }
}
