import Crypto
import Foundation

/// A model's digest as OpenSSF model signing computes it for the `files` method: SHA-256 over
/// the files' SHA-256 digests, in the order of their paths. One file alone is its own digest, so
/// that a single-file model's digest is the plain hash of that file, as inventories record it.
public enum ModelDigest {
    /// `digests`: relative path → SHA-256 hex.
    public static func of(files digests: [String: String]) -> String {
        if digests.count == 1, let only = digests.values.first { return "sha256:" + only.lowercased() }
        return "sha256:" + combined(digests.keys.sorted().compactMap { digests[$0] })
    }

    /// SHA-256 over the bytes of hex digests, in the order given.
    public static func combined(_ hexDigests: [String]) -> String {
        var hasher = SHA256()
        for hex in hexDigests { hasher.update(data: ModelSigningBundle.bytes(hex: hex)) }
        return hasher.finalize().hexEncoded
    }
}
