import SleeperCore

/// How each inventory entity and edge maps onto its table. The import's SQL is generated from
/// these descriptions by one template each (see `InventoryImportSQL`), so the eleven tables
/// cannot drift apart in how they are upserted.
struct EntityTable: Sendable {
    struct Column: Sendable {
        var name: String
        /// Type in the staging table; timestamps travel as epoch seconds.
        var stageType: String
        /// Expression turning the staged value into the stored one.
        var expression: String
        init(_ name: String, _ stageType: String, _ expression: String? = nil) {
            self.name = name
            self.stageType = stageType
            self.expression = expression ?? name
        }
    }

    var table: String
    var columns: [Column]

    var kind: EntityKind { EntityKind(rawValue: table)! }

    /// A field's bit in `stated` and `hand_fields` (`InventoryFields` order: columns, then edge lists).
    func bit(_ field: String) -> Int64 { Int64(bitPattern: InventoryFields.bit(kind, field)) }

    static let resources = EntityTable(
        table: "resources",
        columns: [
            .init("name", "text"), .init("owner", "text"), .init("tier", "smallint"), .init("endpoints", "text[]"),
        ])
    static let datasets = EntityTable(
        table: "datasets",
        columns: [
            .init("name", "text"), .init("owner", "text"), .init("provenance", "text"),
        ])
    static let models = EntityTable(
        table: "models",
        columns: [
            .init("name", "text"), .init("supplier", "text"), .init("owner", "text"), .init("third_party", "boolean"),
            .init("digest", "text"), .init("signed", "boolean"), .init("serialization", "text"),
            .init("lineage_verified", "boolean"), .init("training_data_declared", "boolean"),
        ])
    static let credentials = EntityTable(
        table: "credentials",
        columns: [
            .init("kind", "text"), .init("provider", "text"), .init("owner", "text"), .init("fingerprint", "text"),
            .init("scopes", "text[]"),
            .init("created_at", "float8", "to_timestamp(created_at)"),
            .init("last_rotated_at", "float8", "to_timestamp(last_rotated_at)"),
            .init("expires_at", "float8", "to_timestamp(expires_at)"),
            .init("last_used_at", "float8", "to_timestamp(last_used_at)"),
            .init("ttl_seconds", "integer"), .init("exposed", "boolean"), .init("state", "text"),
        ])
    static let agents = EntityTable(
        table: "agents",
        columns: [
            .init("name", "text"), .init("owner", "text"), .init("input_trust", "text"), .init("tools", "text[]"), .init("endpoints", "text[]"),
            .init("trace_names", "text[]"),
        ])

    /// In dependency order: targets of references before the entities that refer to them.
    static let all: [EntityTable] = [.resources, .datasets, .models, .credentials, .agents]
}

/// An edge list owned by one entity in the file format (an agent's `holds`, a model's `trained_on`, …).
struct EdgeTable: Sendable {
    var table: String
    /// The list's field in the inventory format (`holds`, `uses_models`, …).
    var field: String
    var owner: (table: String, column: String)
    var target: (table: String, column: String)
    /// The edge's attribute (relation, delivery, action), if it has one.
    var attribute: String?
    /// True when the attribute is part of the edge's identity (a credential may both read and write a resource).
    var attributeInKey = false
    /// The index on the target column (migration 0001), which a bulk load drops and builds again.
    var targetIndex: String { "\(table)_" + (Self.targetIndexSuffix[table] ?? target.table) }
    private static let targetIndexSuffix = [
        "trained_on": "dataset", "derived_from": "parent", "uses_model": "model",
        "delegates_to": "delegate", "holds": "credential", "grants": "resource",
    ]

    /// The list's bit among its owner's fields (`InventoryFields`).
    var bit: Int64 { Int64(bitPattern: InventoryFields.bit(EntityKind(rawValue: owner.table)!, field)) }

    static let trainedOn = EdgeTable(table: "trained_on", field: "trained_on", owner: ("models", "model_id"), target: ("datasets", "dataset_id"))
    static let derivedFrom = EdgeTable(table: "derived_from", field: "derived_from", owner: ("models", "model_id"), target: ("models", "parent_id"), attribute: "relation")
    static let usesModel = EdgeTable(table: "uses_model", field: "uses_models", owner: ("agents", "agent_id"), target: ("models", "model_id"))
    static let delegatesTo = EdgeTable(table: "delegates_to", field: "delegates_to", owner: ("agents", "agent_id"), target: ("agents", "delegate_id"))
    static let holds = EdgeTable(table: "holds", field: "holds", owner: ("agents", "agent_id"), target: ("credentials", "credential_id"), attribute: "delivery")
    static let grants = EdgeTable(table: "grants", field: "grants", owner: ("credentials", "credential_id"), target: ("resources", "resource_id"), attribute: "action", attributeInKey: true)

    static let all: [EdgeTable] = [.trainedOn, .derivedFrom, .usesModel, .delegatesTo, .holds, .grants]
}
