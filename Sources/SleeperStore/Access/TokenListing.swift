import Foundation
import SleeperCore

/// Tokens as a listing, for the CLI and the API alike.
public enum TokenListing {
    public static func listing(_ tokens: [TokenStore.Token]) -> Listing {
        func date(_ d: Date?) -> Listing.Cell { d.map { .text(Timestamps.format($0)) } ?? .null }
        return Listing(
            columns: ["name", "role", "created_at", "created_by", "expires_at", "last_used_at", "rotated_at", "revoked_at", "revoke_reason"],
            rows: tokens.map {
                [
                    .text($0.name), .text($0.role.rawValue), date($0.createdAt), .text($0.createdBy), date($0.expiresAt), date($0.lastUsedAt),
                    date($0.rotatedAt), date($0.revokedAt), $0.revokeReason.map(Listing.Cell.text) ?? .null,
                ]
            })
    }
}
