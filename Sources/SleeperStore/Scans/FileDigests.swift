import Crypto
import Foundation
import SleeperCore

/// SHA-256 of the files of a model on disk: what `verify-model` compares with a signature and
/// what `evidence ingest` and `scan model` bind evidence to.
public enum FileDigests {
    public static func relative(_ path: String, to root: URL) -> String {
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : path
    }

    /// Every regular file under `root` (relative path → SHA-256 hex), read in 1 MiB blocks,
    /// leaving out ignored paths and what lies below them. Symbolic links are not followed.
    public static func under(_ root: URL, ignoring ignored: Set<String> = []) throws -> [String: String] {
        var out: [String: String] = [:]
        for (url, name) in try regularFiles(under: root, ignoring: ignored) { out[name] = try file(url.path) }
        return out
    }

    /// Every regular file under `root` with its path relative to it, leaving out ignored paths and
    /// what lies below them. Symbolic links are not followed, so a link cannot lead outside `root`.
    /// SHA-256 of `bytes` in hex, a mebibyte at a time, stopping when the scan's budget is spent
    /// (the caller then throws; the partial hash is never used).
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        let budget = ScanBudget.current
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + (1 << 20))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[at..<end]))
            at = end
            if at & 0x3FFFFFF == 0, budget?.stopped != nil { break }
        }
        return hasher.finalize().hexEncoded
    }

    public static func regularFiles(under root: URL, ignoring ignored: Set<String> = []) throws -> [(url: URL, name: String)] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]) else {
            throw StoreError.invalidInput("\(root.path) is not a directory that can be read")
        }
        var out: [(url: URL, name: String)] = []
        for case let url as URL in walker {
            let name = relative(url.path, to: root)
            if ignored.contains(where: { name == $0 || name.hasPrefix($0 + "/") }) {
                walker.skipDescendants()
                continue
            }
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            guard values.isRegularFile == true, values.isSymbolicLink != true else { continue }
            out.append((url, name))
        }
        return out
    }

    public static func file(_ path: String) throws -> String {
        try MappedFile(path).withBytes { SHA256.hash(data: $0).hexEncoded }
    }

    /// A model at `path` (a file or a directory): its digest and its files (path → SHA-256 hex).
    public static func model(at path: String) throws -> (digest: String, files: [String: String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw StoreError.invalidInput("\(path) does not exist") }
        let files =
            isDirectory.boolValue
            ? try under(URL(fileURLWithPath: path).standardizedFileURL)
            : [URL(fileURLWithPath: path).lastPathComponent: try file(path)]
        guard !files.isEmpty else { throw StoreError.invalidInput("\(path) holds no file") }
        return (ModelDigest.of(files: files), files)
    }
}
