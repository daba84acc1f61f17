import Foundation

/// How a signer is written — as `sleeper verify-model` prints it, and as it is declared trusted:
/// `key sha256:HEX` (64 lowercase hex digits: the SHA-256 of the key's SubjectPublicKeyInfo),
/// `certificate SUBJECT … issued by ISSUER`, or `keyless IDENTITY via PROVIDER`. Declarations are
/// compared as written with what verification establishes, so a declaration in another form
/// (`sha256:…` alone, a PEM) could never match: it is refused.
public enum SignerName {
    /// Why `text` is not a signer's name, or nil when it is one.
    public static func problem(_ text: String) -> String? {
        if text.hasPrefix("key sha256:") {
            let hex = text.dropFirst("key sha256:".count)
            return hex.count == 64 && hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase })
                ? nil
                : "'key sha256:' must be followed by 64 lowercase hex digits (the SHA-256 of the public key's SubjectPublicKeyInfo, as `sleeper verify-model` prints it)"
        }
        if text.hasPrefix("certificate "), let issued = text.range(of: " issued by "), issued.lowerBound > text.index(text.startIndex, offsetBy: 12),
            issued.upperBound < text.endIndex
        {
            return nil
        }
        if text.hasPrefix("keyless "), let via = text.range(of: " via "), via.lowerBound > text.index(text.startIndex, offsetBy: 8), via.upperBound < text.endIndex {
            return nil
        }
        return "is not a signer as `sleeper verify-model` prints it: `key sha256:HEX`, `certificate SUBJECT … issued by ISSUER` or `keyless IDENTITY via PROVIDER`"
    }
}
