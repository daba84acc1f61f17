import Crypto
import Foundation

/// What a token may do: viewers read, editors also import and record evidence and run scoring,
/// admins also manage tokens and read the audit log.
public enum AccessRole: String, CaseIterable, Sendable, Comparable {
    case viewer, editor, admin

    var rank: Int {
        switch self {
        case .viewer: 0;
        case .editor: 1;
        case .admin: 2
        }
    }
    public static func < (a: AccessRole, b: AccessRole) -> Bool { a.rank < b.rank }
    public func allows(_ required: AccessRole) -> Bool { self >= required }
}

/// API tokens: `slp_<12 hex lookup>_<43 characters of base64url secret>` (256 random bits).
public enum APIToken {
    public static func generate() -> (token: String, lookup: String, hash: String) {
        let lookup = randomBytes(6).hexEncoded
        let secret = Data(randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = "slp_\(lookup)_\(secret)"
        return (token, lookup, hash(token))
    }

    /// The lookup part of a well-formed token, or nil.
    public static func lookup(of token: String) -> String? {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "slp", parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit), parts[2].count == 43 else { return nil }
        return String(parts[1])
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexEncoded
    }

    /// Compares two hex digests without stopping at the first difference.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
}
