/// The fields each part of the inventory format knows. Anything else is a typo until shown
/// otherwise: a misspelled `uses_models` would leave an agent without models and its credentials
/// looking unexposed. Custom data goes under `labels:` or in a key that starts with `x-`.
enum FieldNames {
    static let resource: Set<String> = ["key", "name", "owner", "tier", "endpoints"]
    static let dataset: Set<String> = ["key", "name", "owner", "provenance"]
    static let model: Set<String> = [
        "key", "name", "supplier", "owner", "third_party", "digest", "signed", "serialization",
        "lineage_verified", "training_data_declared", "derived_from", "trained_on", "same_as", "signers",
    ]
    static let derivation: Set<String> = ["model", "relation"]
    static let credential: Set<String> = [
        "key", "kind", "provider", "owner", "fingerprint", "scopes", "created_at", "last_rotated_at",
        "expires_at", "last_used_at", "ttl_seconds", "exposed", "grants", "state",
    ]
    static let grant: Set<String> = ["resource", "action"]
    static let agent: Set<String> = ["key", "name", "owner", "input_trust", "uses_models", "delegates_to", "holds", "tools", "endpoints", "trace_names"]
    static let holding: Set<String> = ["credential", "delivery"]
    static let sections: Set<String> = ["models", "datasets", "agents", "credentials", "resources", "version", "kind", "metadata"]

    /// Where custom data may go without being mistaken for a typo.
    static func isCustom(_ field: String) -> Bool { field == "labels" || field.hasPrefix("x-") }

    /// The known field `field` most likely meant, if any is close: the same letters without `_`
    /// or `-` and case, or at most two edits (a swap of neighbours counting as one).
    static func suggestion(for field: String, among known: Set<String>) -> String? {
        func squash(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let same = known.sorted().first(where: { squash($0) == squash(field) }) { return same }
        let scored = known.map { ($0, NearestName.distance(field.lowercased(), $0.lowercased())) }.filter { $0.1 <= 2 }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }
}
