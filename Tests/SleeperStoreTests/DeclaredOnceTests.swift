import Foundation
import Testing

@testable import SleeperCore
@testable import SleeperStore

/// The estate's fields and edges as the reader, the stored field order, the store's tables and
/// every source format name them agree: a name misspelt in one of them fails here instead of
/// being silently dropped by an import.
@Suite("Fields and edges named alike everywhere", .timeLimit(.minutes(2)))
struct DeclaredOnceTests {
    static let readerFields: [EntityKind: Set<String>] = [
        .resources: FieldNames.resource, .datasets: FieldNames.dataset, .models: FieldNames.model,
        .credentials: FieldNames.credential, .agents: FieldNames.agent,
    ]

    @Test("each table's columns and the edge lists it owns are the kind's stored fields, and the reader takes every one")
    func tablesMatchFields() {
        for table in EntityTable.all {
            let owned = EdgeTable.all.filter { $0.owner.table == table.table }.map(\.field)
            let stored = Set(table.columns.map(\.name) + owned)
            #expect(stored == Set(InventoryFields.order(table.kind)), "\(table.table): \(stored.symmetricDifference(InventoryFields.order(table.kind)))")
            let read = Self.readerFields[table.kind] ?? []
            #expect(stored.isSubset(of: read), "\(table.table): the reader does not take \(stored.subtracting(read).sorted())")
        }
    }

    @Test("every source format's fields are stored fields of their kind, and its edge lists are edge lists")
    func sourcesNameStoredFields() {
        let readers: [(String, [EntityKind: [String]], Set<String>)] = [
            ("cyclonedx", CycloneDXReader.fields, CycloneDXReader.edges), ("spdx", SPDXReader.fields, SPDXReader.edges),
            ("hf-model-card", HuggingFaceCardReader.fields, HuggingFaceCardReader.edges),
            ("aws-credential-report", AWSCredentialReportReader.fields, AWSCredentialReportReader.edges),
            ("mcp-config", MCPConfigReader.fields, MCPConfigReader.edges),
            ("gcp-service-account-keys", GCPServiceAccountKeysReader.fields, GCPServiceAccountKeysReader.edges),
            ("github-tokens", GitHubTokensReader.fields, GitHubTokensReader.edges), ("kubernetes", KubernetesReader.fields, KubernetesReader.edges),
            ("entra", EntraApplicationsReader.fields, EntraApplicationsReader.edges),
        ]
        #expect(readers.count == SourceFormat.allCases.count - 1, "every source format but Sleeper's own is listed here")
        let edgeFields = Set(EdgeTable.all.map(\.field))
        for (format, fields, edges) in readers {
            for (kind, names) in fields {
                let unknown = Set(names).subtracting(InventoryFields.order(kind))
                #expect(unknown.isEmpty, "\(format) names \(unknown.sorted()) as \(kind.rawValue) fields")
            }
            #expect(edges.isSubset(of: edgeFields), "\(format) names \(edges.subtracting(edgeFields).sorted()) as edge lists")
        }
    }
}
