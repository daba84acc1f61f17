import Crypto
import Foundation
import SleeperCore

/// `sleeper scan model` and `POST /v1/scans` on the files: each regular file under the path (or
/// the file itself) mapped, hashed and scanned by its content. Symbolic links are not followed,
/// so a link cannot point the scan (or the server) outside what was named.
public enum ModelScanning {
    /// `within`: the directories every file read must be in, checked on each file as opened.
    public static func scan(_ path: String, as target: String? = nil, at now: Date, within roots: [String]? = nil) throws -> ModelScanReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw StoreError.invalidInput("\(path) does not exist") }
        var files: [ModelScanReport.File] = []
        if isDirectory.boolValue {
            for (url, name) in try FileDigests.regularFiles(under: URL(fileURLWithPath: path).standardizedFileURL) {
                files.append(try file(url.path, named: name, within: roots))
                try stopIfSpent(name)
            }
        } else {
            files.append(try file(path, named: URL(fileURLWithPath: path).lastPathComponent, within: roots))
            try stopIfSpent(URL(fileURLWithPath: path).lastPathComponent)
        }
        guard !files.isEmpty else { throw StoreError.invalidInput("\(path) holds no file") }
        return ModelScanReport(target: target ?? path, scannedAt: now, files: files)
    }

    /// One uploaded file (the API), under the name it was sent with.
    public static func scan(_ data: Data, name: String, at now: Date) throws -> ModelScanReport {
        guard !data.isEmpty else { throw StoreError.invalidInput("\(name) is empty") }
        let scanned = data.withUnsafeBytes { file($0, named: name) }
        try stopIfSpent(name)
        return ModelScanReport(target: name, scannedAt: now, files: [scanned])
    }

    /// Throws when the budget in force ran out while `file` was read (its findings are partial).
    static func stopIfSpent(_ file: String) throws {
        if let why = ScanBudget.current?.stopped { throw StoreError.scanStopped("\(why), while reading \(file)") }
    }

    static func file(_ path: String, named name: String, within roots: [String]? = nil) throws -> ModelScanReport.File {
        try MappedFile(path, within: roots).withBytes { file($0, named: name) }
    }

    /// One file's bytes hashed and scanned.
    static func file(_ bytes: UnsafeRawBufferPointer, named name: String) -> ModelScanReport.File {
        let scan = ModelFileScan.scan(name: name, bytes: bytes)
        return ModelScanReport.File(
            path: name, sha256: FileDigests.sha256(bytes), size: bytes.count,
            format: scan.format, pickles: scan.pickles, findings: scan.findings)
    }
}
