import Foundation
import Testing

@testable import SleeperCore

/// A JSON inventory is read as it is parsed, a batch of entities at a time on several threads
/// (`InventoryStreamReader`); it must say exactly what reading the whole tree says.
@Suite("Inventory reader: JSON streamed in batches", .timeLimit(.minutes(2)))
struct StreamedReadTests {
    /// 600 credentials (three batches and more), with problems in the first, a middle and the last batch.
    static func estate(agents: String = #"[{"key": "a1", "holds": [{"credential": "cred-1", "delivery": "brokered"}], "delegates_to": ["a2"]}, {"key": "a2"}]"#) -> String {
        var credentials: [String] = []
        for i in 0..<600 {
            var fields = [#""key": "cred-\#(i)""#, #""kind": "api_key""#, #""grants": [{"resource": "r1", "action": "read"}]"#]
            switch i {
            case 3: fields.append(#""grnats": []"#)  // unknown field
            case 7: fields[1] = #""kind": "apikey_typo""#  // not a kind
            case 300: fields[0] = #""key": "cred-5""#  // defined in an earlier batch
            case 301: fields.append(#""fingerprint": "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB""#)  // secret material
            case 302: fields[2] = #""grants": [{"resource": "r-missing", "action": "read"}]"#  // refers to nothing here
            case 599: fields[2] = #""grants": [{"resource": "r1", "action": "read"}, {"resource": "r1", "action": "read"}]"#
            default: break
            }
            credentials.append("{" + fields.joined(separator: ", ") + "}")
        }
        return """
            {"x-notes": "kept aside", "credentails": [],
             "resources": [{"key": "r1", "name": "R1", "tier": 0}, {"key": "r2", "tier": 9}],
             "models": [],
             "credentials": [\(credentials.joined(separator: ",\n"))],
             "agents": \(agents),
             "datasets": {"key": "not-a-list"}}
            """
    }

    static func viaTree(_ text: String, lenient: Bool = false) throws -> ParsedInventory {
        InventoryReader.read(tree: try DocumentLoader.load(Data(text.utf8), file: "e.json"), file: "e.json", lenient: lenient)
    }

    static func streamed(_ text: String, lenient: Bool = false) throws -> ParsedInventory {
        try #require(InventoryStreamReader.read(Data(text.utf8), file: "e.json", lenient: lenient))
    }

    static func described(_ problems: [InventoryProblem]) -> [String] { problems.map { "\($0.path): \($0.message)" }.sorted() }

    @Test("the same entities, problems, warnings, definitions and unresolved references as the whole tree", arguments: [false, true])
    func sameAsTree(lenient: Bool) throws {
        let text = Self.estate()
        let tree = try Self.viaTree(text, lenient: lenient), stream = try Self.streamed(text, lenient: lenient)
        #expect(stream.inventory == tree.inventory)
        #expect(Self.described(stream.problems) == Self.described(tree.problems))
        #expect(Self.described(stream.warnings) == Self.described(tree.warnings))
        #expect(stream.definitions.mapValues { $0.mapValues(\.description) } == tree.definitions.mapValues { $0.mapValues(\.description) })
        // The stream keeps only what the file itself does not define; the tree keeps every reference.
        let unresolved = tree.references.filter { tree.definitions[$0.kind]?[$0.key] == nil }
        #expect(stream.references.map(\.path) == unresolved.map(\.path))
        #expect(stream.references.map(\.key) == ["r-missing"])

        let messages = Self.described(stream.problems).joined(separator: "\n")
        #expect(messages.contains("credentials[300].key: duplicate key 'cred-5' (already defined at credentials[5].key)"), "\(messages)")
        #expect(messages.contains("credentials[301].fingerprint: looks like secret material"), "\(messages)")
        #expect(!messages.contains("ghp_"), "a secret is never quoted")
        #expect(messages.contains("credentials[599].grants[1]: grant is listed twice"), "\(messages)")
        #expect(messages.contains("datasets: must be a list"), "\(messages)")
        #expect(Self.described(lenient ? stream.warnings : stream.problems).contains { $0.hasPrefix("credentails: is not a section") })
        #expect(stream.inventory.credentials.count == 599, "all but the second cred-5: \(stream.inventory.credentials.count)")
    }

    @Test("a file cut short or broken is one syntax error, located as the tree parser locates it")
    func syntaxErrors() throws {
        for broken in [
            String(Self.estate().prefix(5_000)), Self.estate().replacingOccurrences(of: #""key": "cred-400""#, with: #""key": "cred-400" "kind""#),
            #"{"credentials": [], "credentials": []}"#,
        ] {
            let stream = try Self.streamed(broken)
            #expect(stream.problems.count == 1)
            #expect(stream.inventory == Inventory())
            let tree = InventoryReader.readAll(Data(broken.utf8), file: "e.json")
            #expect(Self.described(stream.problems) == Self.described(tree.problems))
            #expect(stream.problems.first?.message.hasPrefix("is not valid JSON: line ") == true, "\(stream.problems)")
        }
    }

    @Test("an empty list is a section; a file of only unknown sections is no inventory; a top level that is not an object is left to the tree reader")
    func shapes() throws {
        #expect(try Self.streamed(#"{"agents": []}"#).problems.isEmpty)
        #expect(try Self.streamed(#"{"x-notes": 1}"#).problems.map(\.message).first?.hasPrefix("no inventory in e.json") == true)
        #expect(InventoryStreamReader.read(Data("[1, 2]".utf8), file: "e.json", lenient: false) == nil)
        #expect(InventoryReader.readAll(Data("[1, 2]".utf8), file: "e.json").problems.map(\.message) == ["must be a mapping with models, datasets, agents, credentials, resources"])
    }
}
