import Crypto
import Foundation

/// Name-based (version 5, SHA-1) UUIDs, so that the same content gets the same identifier in
/// every export and two exports of one state are identical byte for byte (RFC 9562 §5.5).
public enum NameUUID {
    /// Sleeper's namespace: itself a v5 UUID of "sleeper" in the RFC's URL namespace.
    public static let namespace = make(namespace: UUID(uuidString: "6ba7b811-9dad-11d1-80b4-00c04fd430c8")!, name: "https://sleeper.invalid/oscal")

    public static func make(_ parts: String...) -> String {
        make(namespace: namespace, name: parts.joined(separator: "\u{1F}")).uuidString.lowercased()
    }

    public static func make(namespace: UUID, name: String) -> UUID {
        var ns = namespace.uuid
        var data = withUnsafeBytes(of: &ns) { Data($0) }
        data.append(Data(name.utf8))
        var bytes = Array(Insecure.SHA1.hash(data: data).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
