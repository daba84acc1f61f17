import Foundation
import SleeperCore
import Testing
import Yams

/// The shipped catalogs, read straight from Controls/.
enum ShippedCatalog {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var files: [(name: String, data: Data)] {
        get throws {
            let dir = root.appending(path: "Controls")
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map {
                (name: $0, data: try Data(contentsOf: dir.appending(path: $0)))
            }
        }
    }

    static var catalog: Catalog {
        get throws { try CatalogReader.read(files: files).get() }
    }

    static func replacing(_ name: String, with text: String) throws -> [(name: String, data: Data)] {
        try files.map { $0.name == name ? (name: name, data: Data(text.utf8)) : $0 }
    }
}

@Suite("Shipped catalogs", .timeLimit(.minutes(2)))
struct ShippedCatalogTests {
    @Test("OWASP Agentic 2026: ASI01–ASI10 and the A2 alias resolving to ASI04, ASI06, ASI10")
    func owaspAgentic() throws {
        let f = try #require(try ShippedCatalog.catalog.framework("owasp-agentic"))
        #expect(f.edition == "2026")
        #expect(f.items.filter { !$0.isAlias }.map(\.id) == (1...10).map { String(format: "ASI%02d", $0) })
        #expect(f.items.first { $0.id == "ASI04" }?.name == "Agentic Supply Chain Vulnerabilities")
        let a2 = try #require(f.items.first { $0.id == "A2" })
        #expect(a2.aliasOf == ["ASI04", "ASI06", "ASI10"])
        #expect(a2.name.contains("alias"))
        #expect(a2.description.contains("Not an OWASP number"))
    }

    @Test("NIST AI RMF 1.0: 4 functions, 19 categories, 72 subcategories, each under the right parent")
    func nist() throws {
        let f = try #require(try ShippedCatalog.catalog.framework("nist-ai-rmf"))
        #expect(f.items.filter { $0.kind == "function" }.map(\.id) == ["GOVERN", "MAP", "MEASURE", "MANAGE"])
        #expect(f.items.filter { $0.kind == "category" }.count == 19)
        let subcategories = f.items.filter { $0.kind == "subcategory" }
        #expect(subcategories.count == 72)
        for s in subcategories { #expect(s.id.hasPrefix(s.parent! + "."), "\(s.id) under \(s.parent!)") }
        let perFunction = Dictionary(grouping: subcategories) { String($0.id.split(separator: " ")[0]) }.mapValues(\.count)
        #expect(perFunction == ["GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13])
    }

    @Test("OWASP NHI 2025 and LLM 2025 with their published IDs and names")
    func owaspLists() throws {
        let catalog = try ShippedCatalog.catalog
        let nhi = try #require(catalog.framework("owasp-nhi"))
        #expect(nhi.items.map(\.id) == (1...10).map { "NHI\($0)" })
        #expect(nhi.items.first { $0.id == "NHI7" }?.name == "Long-Lived Secrets")
        let llm = try #require(catalog.framework("owasp-llm"))
        #expect(llm.items.map(\.id) == (1...10).map { String(format: "LLM%02d:2025", $0) })
        #expect(llm.items.first { $0.id == "LLM04:2025" }?.name == "Data and Model Poisoning")
    }

    @Test("every ATLAS ID, name, parent and mitigation link matches the official 5.6.0 data file")
    func atlasAgainstOfficialData() throws {
        let official = try #require(try Yams.load(yaml: String(contentsOf: ShippedCatalog.root.appending(path: "Tests/Fixtures/atlas/ATLAS-5.6.0.yaml"), encoding: .utf8)) as? [String: Any])
        let matrix = try #require((official["matrices"] as? [[String: Any]])?.first)
        var names: [String: String] = [:], parents: [String: String] = [:], links: [String: Set<String>] = [:]
        for t in matrix["techniques"] as! [[String: Any]] {
            names[t["id"] as! String] = t["name"] as? String
            parents[t["id"] as! String] = t["subtechnique-of"] as? String
        }
        for m in matrix["mitigations"] as! [[String: Any]] {
            names[m["id"] as! String] = m["name"] as? String
            links[m["id"] as! String] = Set(((m["techniques"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        }
        let f = try #require(try ShippedCatalog.catalog.framework("atlas"))
        #expect(f.edition == "5.6.0")
        #expect(f.items.count > 50)
        for item in f.items {
            #expect(names[item.id] == item.name, "\(item.id)")
            #expect(parents[item.id] == item.parent, "\(item.id) parent")
            for technique in item.mitigates { #expect(links[item.id]?.contains(technique) == true, "\(item.id) mitigates \(technique)") }
        }
        #expect(f.items.first { $0.id == "AML.T0043.004" }?.name == "Insert Backdoor Trigger")
        #expect(f.items.first { $0.id == "AML.M0029" }?.mitigates.contains("AML.T0053") == true)
    }

    @Test("every backdoor-relevant item is reached by at least one control, and every control maps somewhere")
    func crosswalkCoverage() throws {
        let catalog = try ShippedCatalog.catalog
        let unreached = catalog.unreachedRelevantItems()
        #expect(unreached.isEmpty, "unreached: \(unreached.map { "\($0.framework) \($0.item)" })")
        #expect(catalog.frameworks.allSatisfy { f in f.items.contains { $0.backdoorRelevant } })
        for control in catalog.controls { #expect(catalog.mappings.contains { $0.control == control.id }, "\(control.id)") }
        #expect(catalog.controls.count == 17)
        #expect(catalog.crosswalkStatement.contains("Sleeper's own"))
    }

    @Test("the coverage check notices an item that nothing reaches")
    func coverageCheckCanFail() throws {
        var catalog = try ShippedCatalog.catalog
        catalog.mappings.removeAll { $0.framework == "owasp-nhi" && $0.item == "NHI9" }
        #expect(catalog.unreachedRelevantItems().map(\.item) == ["NHI9"])
        catalog.mappings.removeAll { $0.framework == "owasp-agentic" && $0.item == "ASI06" }
        #expect(catalog.unreachedRelevantItems().map(\.item).contains("A2"))
    }

    @Test("each catalog file names its source, edition and licence")
    func provenance() throws {
        for f in try ShippedCatalog.catalog.frameworks {
            #expect(!f.source.isEmpty && !f.edition.isEmpty && !f.licence.isEmpty, "\(f.id)")
            #expect(f.items.allSatisfy { !$0.description.isEmpty }, "\(f.id) descriptions")
        }
    }
}

@Suite("Catalog errors", .timeLimit(.minutes(2)))
struct CatalogErrorTests {
    func problems(_ name: String, _ text: String) throws -> [String] {
        switch CatalogReader.read(files: try ShippedCatalog.replacing(name, with: text)) {
        case .success: return []
        case .failure(let p): return p.problems.map(\.description)
        }
    }

    @Test("an unknown parent is refused with the file and entry")
    func unknownParent() throws {
        let p = try problems(
            "owasp-nhi-2025.yaml",
            """
            framework: {id: owasp-nhi, name: NHI, edition: "2025", source: s, licence: l}
            items:
              - {id: NHI1, name: One, description: d, parent: NHI0}
            """)
        #expect(p.contains("owasp-nhi-2025.yaml: items[0].parent: unknown parent 'NHI0' in owasp-nhi"))
    }

    @Test("a duplicate ID is refused")
    func duplicate() throws {
        let p = try problems(
            "owasp-llm-2025.yaml",
            """
            framework: {id: owasp-llm, name: LLM, edition: "2025", source: s, licence: l}
            items:
              - {id: "LLM03:2025", name: Supply Chain, description: d}
              - {id: "LLM03:2025", name: Again, description: d}
            """)
        #expect(p.contains("owasp-llm-2025.yaml: items[1].id: duplicate ID 'LLM03:2025' (already at items[0])"))
    }

    @Test("a mapping to an ID that does not exist is refused")
    func unknownMappingTarget() throws {
        let p = try problems(
            "crosswalk.yaml",
            """
            crosswalk: {statement: test}
            mappings:
              SLP-ROTATION:
                owasp-nhi: {NHI77: subset-of}
                no-such-framework: {X: subset-of}
              SLP-NOPE:
                owasp-nhi: {NHI7: subset-of}
              SLP-OWNERSHIP:
                owasp-nhi: {NHI1: overlaps}
            """)
        #expect(p.contains("crosswalk.yaml: mappings.SLP-ROTATION.owasp-nhi.NHI77: unknown item 'NHI77' in framework 'owasp-nhi'"))
        #expect(p.contains("crosswalk.yaml: mappings.SLP-ROTATION.no-such-framework: unknown framework 'no-such-framework'"))
        #expect(p.contains("crosswalk.yaml: mappings.SLP-NOPE: unknown control 'SLP-NOPE'"))
        #expect(p.contains { $0.hasPrefix("crosswalk.yaml: mappings.SLP-OWNERSHIP.owasp-nhi.NHI1: 'overlaps' is not one of") })
    }

    @Test("an alias or mitigation link to an unknown item is refused")
    func unknownAliasTarget() throws {
        let p = try problems(
            "owasp-agentic-2026.yaml",
            """
            framework: {id: owasp-agentic, name: A, edition: "2026", source: s, licence: l}
            items:
              - {id: ASI04, name: Supply, description: d}
              - {id: A2, name: Alias, description: d, alias_of: [ASI04, ASI99]}
            """)
        #expect(p.contains { $0.contains("'A2' is an alias of unknown item 'ASI99'") })
    }
}

@Suite("ATLAS import", .timeLimit(.minutes(2)))
struct AtlasReaderTests {
    @Test("the complete 5.6.0 file: 16 tactics, 101 techniques, 69 sub-techniques, 35 mitigations")
    func official() throws {
        let data = try Data(contentsOf: ShippedCatalog.root.appending(path: "Tests/Fixtures/atlas/ATLAS-5.6.0.yaml"))
        let f = try AtlasReader.read(data, file: "ATLAS-5.6.0.yaml").get()
        #expect(f.id == "atlas-full-5.6.0")
        #expect(f.items.filter { $0.kind == "tactic" }.count == 16)
        #expect(f.items.filter { $0.kind == "technique" }.count == 101)
        #expect(f.items.filter { $0.kind == "sub-technique" }.count == 69)
        #expect(f.items.filter { $0.kind == "mitigation" }.count == 35)
        // The stray technique entries inside ml-lifecycle are not links.
        let m0018 = try #require(f.items.first { $0.id == "AML.M0018" })
        #expect(m0018.mitigates == ["AML.T0011", "AML.T0011.000", "AML.T0011.001", "AML.T0052", "AML.T0052.000"])
        #expect(f.items.first { $0.id == "AML.T0018.000" }?.parent == "AML.T0018")
    }

    @Test("the format-version 6 shape with a relationships list")
    func formatSix() throws {
        let yaml = """
            format-version: 6.0.0
            collection: {id: ATLAS, name: MITRE ATLAS, version: "2026.09"}
            objects:
              AML.TA0001: {object-type: tactic, name: AI Attack Staging}
              AML.T0115: {object-type: technique, name: Publish Poisoned AI Artifacts}
              AML.T0115.001: {object-type: technique, name: Models}
              AML.M0014: {object-type: mitigation, name: Verify AI Artifacts}
            relationships:
              - {type: achieves, source: AML.T0115, target: AML.TA0001}
              - {type: specializes, source: AML.T0115.001, target: AML.T0115}
              - {type: mitigates, source: AML.M0014, target: AML.T0115.001}
            """
        let f = try AtlasReader.read(Data(yaml.utf8), file: "atlas-2026.09.yaml").get()
        #expect(f.id == "atlas-full-2026.09")
        #expect(f.edition == "2026.09")
        #expect(f.items.first { $0.id == "AML.T0115.001" }?.parent == "AML.T0115")
        #expect(f.items.first { $0.id == "AML.T0115.001" }?.kind == "sub-technique")
        #expect(f.items.first { $0.id == "AML.M0014" }?.mitigates == ["AML.T0115.001"])
        guard case .failure(let p) = AtlasReader.read(Data((yaml + "\n  - {type: mitigates, source: AML.M0014, target: AML.T9999}").utf8), file: "bad.yaml") else {
            Issue.record("accepted a link to an unknown object"); return
        }
        #expect(p.problems.first?.message.contains("AML.T9999") == true)
    }
}
