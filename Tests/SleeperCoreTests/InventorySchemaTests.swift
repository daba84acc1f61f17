import Foundation
import Testing

@testable import SleeperCore

/// The published JSON Schema of the inventory format and the reader agree field for field: a
/// field the reader takes that the schema lacks (or the reverse) fails here, not in a user's editor.
@Suite("The inventory schema matches the reader", .timeLimit(.minutes(1)))
struct InventorySchemaTests {
    @Test("every entity's and entry's properties in Examples/inventory.schema.json are the reader's fields (labels aside)")
    func propertiesMatchReader() throws {
        let url = ShippedCatalog.root.appending(path: "Examples/inventory.schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        func properties(_ def: String, nested: [String] = []) -> Set<String> {
            var node: [String: Any]? = defs[def] as? [String: Any]
            for step in nested {
                let props: [String: Any]? = node?["properties"] as? [String: Any]
                let field: [String: Any]? = props?[step] as? [String: Any]
                node = field?["items"] as? [String: Any]
            }
            let props: [String: Any] = (node?["properties"] as? [String: Any]) ?? [:]
            return Set(props.keys).subtracting(["labels"])
        }
        #expect(properties("model") == FieldNames.model, "\(properties("model").symmetricDifference(FieldNames.model))")
        #expect(properties("dataset") == FieldNames.dataset, "\(properties("dataset").symmetricDifference(FieldNames.dataset))")
        #expect(properties("agent") == FieldNames.agent, "\(properties("agent").symmetricDifference(FieldNames.agent))")
        #expect(properties("credential") == FieldNames.credential, "\(properties("credential").symmetricDifference(FieldNames.credential))")
        #expect(properties("resource") == FieldNames.resource, "\(properties("resource").symmetricDifference(FieldNames.resource))")
        #expect(properties("model", nested: ["derived_from"]) == FieldNames.derivation)
        #expect(properties("credential", nested: ["grants"]) == FieldNames.grant)
    }
}
