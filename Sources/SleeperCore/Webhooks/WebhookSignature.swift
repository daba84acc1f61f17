import Crypto
import Foundation

/// How a receiver knows a webhook came from this Sleeper and was not replayed: the header
/// `X-Sleeper-Signature: t=UNIX_SECONDS,v1=HEX` where HEX is HMAC-SHA256 with the shared secret
/// over `UNIX_SECONDS.` followed by the exact body bytes. Receivers recompute it, compare in
/// constant time, and refuse a timestamp far from their clock.
public enum WebhookSignature {
    public static let header = "X-Sleeper-Signature"

    public static func sign(secret: Data, timestamp: Int, body: Data) -> String {
        "t=\(timestamp),v1=\(mac(secret: secret, timestamp: timestamp, body: body).hexEncoded)"
    }

    static func mac(secret: Data, timestamp: Int, body: Data) -> HashedAuthenticationCode<SHA256> {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        return HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
    }

    /// Checks a header the way a receiver should: the MAC in constant time, the time within `tolerance`.
    public static func verify(_ header: String, secret: Data, body: Data, now: Date, tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int?, given: Data?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { given = ModelSigningBundle.bytes(hex: String(pair[1])) }
        }
        guard let timestamp, let given, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: signed, using: SymmetricKey(data: secret))
    }
}
