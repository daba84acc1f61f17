import Foundation
import Testing

@testable import SleeperCore

/// One model per real thing: keys resolved before an import is merged.
@Suite("Model identity", .timeLimit(.minutes(2)))
struct ModelIdentityTests {
    static func file(_ name: String, source: Bool = false, _ models: [Inventory.Model], agents: [Inventory.Agent] = []) -> ParsedInventory {
        var defined: [String: DocumentPath] = [:]
        for (i, m) in models.enumerated() { defined[m.key] = .named("models[\(i)]") }
        var parsed = ParsedInventory(file: name, inventory: Inventory(models: models, agents: agents), definitions: [.models: defined], references: [])
        if source { parsed.source = SourceOrigin(format: .cyclonedx, name: "bom", fields: [:], edges: [], stubs: Inventory(), findings: []) }
        return parsed
    }

    @Test("same_as: the declaring key is kept; references, lineage and agents' models are renamed; a parent named twice counts once")
    func declared() throws {
        var gguf = Inventory.Model(key: "support-q4", derivedFrom: [.init(model: "acme/support-ft@2.1", relation: .quantized), .init(model: "acme-support-ft", relation: .quantized)])
        gguf.digest = "sha256:" + String(repeating: "1", count: 64)
        let bom = Self.file("bom.json", source: true, [Inventory.Model(key: "acme/support-ft@2.1", supplier: "Acme"), gguf])
        let card = Self.file(
            "README.md", source: true, [Inventory.Model(key: "acme-support-ft", owner: "ml-team")],
            agents: [Inventory.Agent(key: "triage", usesModels: ["acme-support-ft", "acme/support-ft@2.1"])])
        var hand = Inventory.Model(key: "acme/support-ft@2.1")
        hand.sameAs = ["acme-support-ft"]
        hand.stated = 0
        let r = ModelIdentity.resolve([bom, card, Self.file("glue.yaml", [hand])], stored: [:], storedDigests: [:])
        #expect(r.problems.isEmpty)
        #expect(r.aliases == ["acme-support-ft": "acme/support-ft@2.1"])
        #expect(r.merges.map(\.reason) == ["declared same_as by 'acme/support-ft@2.1' in glue.yaml"])
        let models = r.files.flatMap(\.inventory.models)
        #expect(!models.contains { $0.key == "acme-support-ft" })
        let q4 = try #require(models.first { $0.key == "support-q4" })
        #expect(q4.derivedFrom.map(\.model) == ["acme/support-ft@2.1"], "one parent, once")
        #expect(r.files[1].inventory.agents[0].usesModels == ["acme/support-ft@2.1"])
        #expect(r.files[1].definitions[.models]?["acme/support-ft@2.1"] != nil)
    }

    @Test("the same digest is one model: a stored key is kept over a new one; an alias stored before still holds")
    func digests() {
        let d = "sha256:" + String(repeating: "2", count: 64)
        let incoming = Self.file("bom.json", source: true, [Inventory.Model(key: "a-router", digest: d)])
        let r = ModelIdentity.resolve([incoming], stored: [:], storedDigests: ["z-router": d])
        #expect(r.aliases == ["a-router": "z-router"], "the stored key stays, though later in order")
        #expect(r.merges.first?.reason == "the same content digest \(d)")
        let again = ModelIdentity.resolve(
            [Self.file("bom.json", source: true, [Inventory.Model(key: "a-router")])],
            stored: ["a-router": .init(alias: "a-router", canonical: "z-router", reason: "x")], storedDigests: [:])
        #expect(again.files[0].inventory.models.map(\.key) == ["z-router"])
        #expect(again.merges.isEmpty, "nothing new")
    }

    @Test("one key declared the same as two models, or two declaring entries in one set, is refused with the field")
    func conflicts() {
        var a = Inventory.Model(key: "a"); a.sameAs = ["x"]
        var b = Inventory.Model(key: "b"); b.sameAs = ["x"]
        let r = ModelIdentity.resolve([Self.file("glue.yaml", [a, b])], stored: [:], storedDigests: [:])
        #expect(r.problems.map(\.message) == ["'x' is declared the same as both 'a' and 'b'"])
        #expect(r.problems.first?.path == "models[b].same_as")
    }
}
