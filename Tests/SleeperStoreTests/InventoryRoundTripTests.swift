import Foundation
import SleeperStore
import Testing

@testable import SleeperCore

/// Every field of every kind survives the trip: a file that sets each one (none at its default)
/// is imported, listed as JSON, the listing imported into another store, and listed again,
/// unchanged. The listing's columns are the reader's fields, so a field added to one and not
/// the other fails here.
@Suite("Inventory round trip", .timeLimit(.minutes(8)))
struct InventoryRoundTripTests {
    static let everyField = """
        resources:
          - {key: pay-db, name: Payments database, owner: payments, tier: 3, endpoints: [db.pay.example]}
          - {key: wiki, name: Wiki, tier: 1}
        datasets:
          - {key: tickets, name: Support tickets, owner: support, provenance: curated_screened}
        models:
          - {key: base, name: Base model, supplier: acme, owner: ml, third_party: true, digest: "sha256:\(String(repeating: "a", count: 64))",
             signed: true, serialization: safetensors, lineage_verified: true, training_data_declared: true, trained_on: [tickets]}
          - key: tuned
            name: Tuned model
            supplier: in-house
            owner: ml-platform
            third_party: false
            digest: "sha256:\(String(repeating: "b", count: 64))"
            signed: false
            serialization: pickle
            lineage_verified: false
            training_data_declared: false
            derived_from: [{model: base, relation: adapter}]
        credentials:
          - key: pay-key
            kind: api_key
            provider: stripe
            owner: payments
            fingerprint: key_1Nv0xT
            scopes: [charges:write, refunds:write]
            created_at: 2025-01-02
            last_rotated_at: 2025-06-01T10:00:00Z
            expires_at: 2027-01-01
            last_used_at: 2026-11-30T08:15:00Z
            ttl_seconds: 3600
            exposed: true
            grants: [{resource: pay-db, action: admin}, {resource: wiki, action: read}]
            state: disabled
        agents:
          - key: helper
            name: Support helper
            owner: support
            input_trust: untrusted
            uses_models: [tuned]
            delegates_to: [worker]
            holds: [{credential: pay-key, delivery: brokered}]
            tools: [issue_refund, read_ticket]
            endpoints: [api.stripe.com]
            trace_names: [support-helper-v2]
          - {key: worker, name: Worker, input_trust: fixed, tools: []}
        """

    static let kinds = ["resources", "datasets", "models", "credentials", "agents"]

    /// Every kind listed as JSON: the kind → its rows.
    static func listed(_ url: String) async throws -> [String: [[String: Any]]] {
        var out: [String: [[String: Any]]] = [:]
        for kind in kinds {
            let run = try await Fixtures.sleeper(["inventory", kind, "--format", "json", "--database-url", url])
            try #require(run.status == 0, "\(run.stderr)")
            out[kind] = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        }
        return out
    }

    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("import → listing JSON → import into a fresh store → listing JSON: the same, every field of every kind present and set")
    func everyFieldSurvives() async throws {
        let dir = try ExportStoreTests.scratch()
        let file = dir.appending(path: "every-field.yaml")
        try Data(Self.everyField.utf8).write(to: file)
        let first = try await TestDatabase.withCatalogs { _, url in
            let imported = try await Fixtures.sleeper(["import", file.path, "--database-url", url])
            try #require(imported.status == 0, "\(imported.stderr)")
            return try Self.canonical(try await Self.listed(url))
        }
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: [[String: Any]]])
        // The listing carries every field the reader takes (same_as and signers are declarations, not fields).
        let fields: [String: Set<String>] = [
            "resources": FieldNames.resource, "datasets": FieldNames.dataset, "models": FieldNames.model.subtracting(["same_as", "signers"]),
            "credentials": FieldNames.credential, "agents": FieldNames.agent,
        ]
        for kind in Self.kinds {
            let columns = Set(rows[kind]?.first?.keys.map { $0 } ?? [])
            #expect(columns == fields[kind], "\(kind): \(columns.symmetricDifference(fields[kind] ?? []))")
        }
        let pay = try #require(rows["credentials"]?.first)
        #expect(pay["state"] as? String == "disabled" && pay["ttl_seconds"] as? Int == 3600 && pay["exposed"] as? Bool == true)
        let helper = try #require(rows["agents"]?.first { $0["key"] as? String == "helper" })
        #expect(helper["trace_names"] as? [String] == ["support-helper-v2"] && helper["endpoints"] as? [String] == ["api.stripe.com"])

        // The listing is an inventory file: imported into a fresh store, it lists the same.
        let again = dir.appending(path: "listed.json")
        try Data(first.utf8).write(to: again)
        let second = try await TestDatabase.withCatalogs { _, url in
            let imported = try await Fixtures.sleeper(["import", again.path, "--database-url", url])
            try #require(imported.status == 0, "\(imported.stderr)")
            return try Self.canonical(try await Self.listed(url))
        }
        #expect(second == first)
    }
}
