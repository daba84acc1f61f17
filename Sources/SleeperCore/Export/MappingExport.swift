import Foundation

/// The crosswalk as an OSCAL mapping collection: one mapping per framework, from Sleeper's
/// controls (source) to the framework's items (target), with the OLIR relationship of each pair.
public enum MappingExport {
    public static func render(_ catalog: Catalog, asOf: Date, framework: String? = nil) -> String {
        let catalogUUID = NameUUID.make("sleeper-catalog")
        let mappings = catalog.frameworks.filter { framework == nil || $0.id == framework }.compactMap { f -> JSONValue? in
            let pairs = catalog.mappings.filter { $0.framework == f.id }
            guard !pairs.isEmpty else { return nil }
            return .obj([
                ("uuid", .string(NameUUID.make("mapping", f.id))),
                ("source-resource", .obj([("type", .string("catalog")), ("href", .string("#\(catalogUUID)"))])),
                (
                    "target-resource",
                    .obj([
                        ("type", .string("catalog")), ("href", .string(f.source)),
                        ("props", OSCAL.props([("framework", f.id), ("edition", f.edition)])),
                    ])
                ),
                (
                    "maps",
                    .array(
                        pairs.map { m in
                            .obj([
                                ("uuid", .string(NameUUID.make("map", m.control, m.framework, m.item))),
                                ("relationship", .string(m.relationship.rawValue)),
                                ("sources", .array([.obj([("type", .string("control")), ("id-ref", .string(m.control))])])),
                                ("targets", .array([.obj([("type", .string("control")), ("id-ref", .string(m.item))])])),
                            ])
                        })
                ),
            ])
        }
        let fingerprint = catalog.mappings.map { "\($0.control)|\($0.framework)|\($0.item)|\($0.relationship.rawValue)" }.joined(separator: "\n")
        let doc = JSONValue.obj([
            (
                "mapping-collection",
                .obj([
                    ("uuid", .string(NameUUID.make("mapping-collection", framework ?? "all", fingerprint))),
                    (
                        "metadata",
                        .obj([
                            ("title", .string("Sleeper crosswalk: Sleeper controls to framework items")),
                            ("last-modified", .string(Timestamps.format(asOf))),
                            ("version", .string("crosswalk " + NameUUID.make("crosswalk-version", fingerprint).prefix(8))),
                            ("oscal-version", .string(OSCAL.version)),
                        ])
                    ),
                    (
                        "provenance",
                        .obj([
                            ("method", .string("human")),
                            ("matching-rationale", .string("semantic")),
                            ("status", .string("complete")),
                            ("mapping-description", .string(catalog.crosswalkStatement)),
                        ])
                    ),
                    ("mappings", .array(mappings)),
                    (
                        "back-matter",
                        .obj([
                            (
                                "resources",
                                .array([
                                    .obj([
                                        ("uuid", .string(catalogUUID)),
                                        ("title", .string("Sleeper controls")),
                                        ("description", .string(catalog.controls.map { "\($0.id) \($0.name)" }.joined(separator: "; "))),
                                    ])
                                ])
                            )
                        ])
                    ),
                ])
            )
        ])
        return doc.pretty()
    }
}
