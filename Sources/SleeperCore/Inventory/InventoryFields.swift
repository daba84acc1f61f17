/// Each entity's fields in the inventory format, in a fixed order: a field's position is its bit
/// in `stated` (what a hand-written entry said) and in the store's `hand_fields` (what a
/// hand-written file set, which no source overwrites). The columns come first, as the entity's
/// table first declared them, then the edge lists it owns, then fields added since. New fields
/// are only ever appended: stored bits keep their meaning.
public enum InventoryFields {
    public static func order(_ kind: EntityKind) -> [String] {
        switch kind {
        case .resources: resources
        case .datasets: datasets
        case .models: models
        case .credentials: credentials
        case .agents: agents
        }
    }

    static let resources = ["name", "owner", "tier", "endpoints"]
    static let datasets = ["name", "owner", "provenance"]
    static let models = [
        "name", "supplier", "owner", "third_party", "digest", "signed", "serialization", "lineage_verified",
        "training_data_declared", "trained_on", "derived_from",
    ]
    static let credentials = [
        "kind", "provider", "owner", "fingerprint", "scopes", "created_at", "last_rotated_at", "expires_at",
        "last_used_at", "ttl_seconds", "exposed", "grants", "state",
    ]
    static let agents = ["name", "owner", "input_trust", "tools", "endpoints", "trace_names", "uses_models", "delegates_to", "holds"]

    /// The bit of `field` (0 for a field the kind does not have).
    public static func bit(_ kind: EntityKind, _ field: String) -> UInt64 {
        order(kind).firstIndex(of: field).map { 1 << UInt64($0) } ?? 0
    }

    /// The names of the fields set in `bits`.
    public static func names(_ kind: EntityKind, _ bits: UInt64) -> [String] {
        order(kind).enumerated().filter { bits & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }
}
