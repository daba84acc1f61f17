import Foundation

/// Inventory entities as listings whose column names are the inventory format's field names,
/// so that `sleeper inventory KIND --format json` output can be imported again.
public enum InventoryListing {
    public typealias Cell = Listing.Cell

    public static func listing(_ kind: EntityKind, of inv: Inventory) -> Listing {
        switch kind {
        case .resources:
            return Listing(
                columns: ["key", "name", "tier", "owner", "endpoints"],
                rows: inv.resources.map {
                    [.text($0.key), .text($0.name), .integer($0.tier.rawValue), text($0.owner), .list($0.endpoints)]
                })
        case .datasets:
            return Listing(
                columns: ["key", "name", "provenance", "owner"],
                rows: inv.datasets.map {
                    [.text($0.key), .text($0.name), .text($0.provenance.rawValue), text($0.owner)]
                })
        case .models:
            return Listing(
                columns: [
                    "key", "name", "supplier", "third_party", "digest", "signed", "serialization",
                    "lineage_verified", "training_data_declared", "owner", "derived_from", "trained_on",
                ],
                rows: inv.models.map { m in
                    [
                        .text(m.key), .text(m.name), text(m.supplier), .bool(m.thirdParty), text(m.digest), .bool(m.signed),
                        .text(m.serialization.rawValue), .bool(m.lineageVerified), .bool(m.trainingDataDeclared), text(m.owner),
                        .records(m.derivedFrom.map { [.init("model", $0.model), .init("relation", $0.relation.rawValue)] }),
                        .list(m.trainedOn),
                    ]
                })
        case .agents:
            return Listing(
                columns: ["key", "name", "owner", "input_trust", "uses_models", "delegates_to", "holds", "tools", "endpoints", "trace_names"],
                rows: inv.agents.map { a in
                    [
                        .text(a.key), .text(a.name), text(a.owner), .text(a.inputTrust.rawValue), .list(a.usesModels),
                        .list(a.delegatesTo),
                        .records(a.holds.map { [.init("credential", $0.credential), .init("delivery", $0.delivery.rawValue)] }),
                        a.tools.map(Cell.list) ?? .null, .list(a.endpoints), .list(a.traceNames),
                    ]
                })
        case .credentials:
            return Listing(
                columns: [
                    "key", "kind", "provider", "owner", "fingerprint", "scopes", "created_at",
                    "last_rotated_at", "expires_at", "last_used_at", "ttl_seconds", "exposed", "grants", "state",
                ],
                rows: inv.credentials.map { c in
                    [
                        .text(c.key), .text(c.kind.rawValue), text(c.provider), text(c.owner), text(c.fingerprint), .list(c.scopes),
                        date(c.createdAt), date(c.lastRotatedAt), date(c.expiresAt), date(c.lastUsedAt),
                        c.ttlSeconds.map(Cell.integer) ?? .null, .bool(c.exposed),
                        .records(c.grants.map { [.init("resource", $0.resource), .init("action", $0.action.rawValue)] }),
                        .text(c.state.rawValue),
                    ]
                })
        }
    }

    /// The columns a terminal table shows; JSON and CSV carry every field.
    public static func tableColumns(_ kind: EntityKind) -> [String] {
        switch kind {
        case .resources: return ["key", "name", "tier", "owner"]
        case .datasets: return ["key", "name", "provenance", "owner"]
        case .models:
            return [
                "key", "supplier", "third_party", "signed", "serialization", "lineage_verified",
                "training_data_declared", "derived_from", "trained_on",
            ]
        case .agents: return ["key", "owner", "input_trust", "uses_models", "delegates_to", "holds"]
        case .credentials:
            return [
                "key", "kind", "owner", "last_rotated_at", "expires_at", "last_used_at", "ttl_seconds",
                "exposed", "grants",
            ]
        }
    }

    static func text(_ s: String?) -> Cell { s.map(Cell.text) ?? .null }
    /// Midnight UTC prints as a day, as it was most likely written.
    static func date(_ d: Date?) -> Cell {
        guard let d else { return .null }
        return .text(d.timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) == 0 ? Timestamps.formatDay(d) : Timestamps.format(d))
    }
}
