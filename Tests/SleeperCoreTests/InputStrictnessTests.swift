import Foundation
import SleeperCore
import Testing

/// Input that would silently change the answer is refused, with the field meant.
@Suite("Strict inventory input", .timeLimit(.minutes(2)))
struct InputStrictnessTests {
    static func problems(_ text: String, file: String = "in.yaml", lenient: Bool = false) -> (problems: [InventoryProblem], warnings: [InventoryProblem]) {
        let parsed = InventoryReader.readAll(Data(text.utf8), file: file, lenient: lenient)
        return (parsed.problems, parsed.warnings)
    }

    @Test("misspelled fields are refused with the field meant; labels and x- keys carry custom data; --lenient warns instead")
    func unknownFields() {
        let text = """
            models:
              - {key: m1, suplier: acme, serialisation: pickle, thirdparty: true, labels: {team: ml}, x-cost-centre: 42}
            agents:
              - {key: a1, use_models: [m1], input_trsut: untrusted, holds: [{credential: c1, delivery: runtime_env, deliverry: x}]}
            credentials: [{key: c1, kind: api_key}]
            """
        let found = Self.problems(text).problems.map(\.description)
        #expect(found.contains("in.yaml: models[0].suplier: is not a field of a model (did you mean 'supplier'?); put custom data under labels: or in a key starting with x-"))
        #expect(found.contains { $0.contains("models[0].serialisation: is not a field of a model (did you mean 'serialization'?)") })
        #expect(found.contains { $0.contains("models[0].thirdparty: is not a field of a model (did you mean 'third_party'?)") })
        #expect(found.contains { $0.contains("agents[0].use_models: is not a field of an agent (did you mean 'uses_models'?)") })
        #expect(found.contains { $0.contains("agents[0].input_trsut: is not a field of an agent (did you mean 'input_trust'?)") })
        #expect(found.contains { $0.contains("agents[0].holds[0].deliverry: is not a field of a holds entry (did you mean 'delivery'?)") })
        #expect(!Self.problems(text).problems.contains { $0.path.hasSuffix("labels") || $0.path.hasSuffix("x-cost-centre") })
        #expect(found.count == 6, "\(found)")

        let lenient = Self.problems(text, lenient: true)
        #expect(lenient.problems.isEmpty, "\(lenient.problems)")
        #expect(lenient.warnings.count == 6)
        #expect(Self.problems("models: [{key: m1, labels: [a, b]}]").problems.map(\.message) == ["must be a mapping of names to values"])
        #expect(Self.problems("modles: []\nmodels: []").problems.first?.message.contains("did you mean 'models'?") == true)
    }

    @Test("the shipped example reads without a problem (its flow-mapping name with a comma is quoted)")
    func example() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Examples/inventory.yaml")
        let parsed = InventoryReader.readAll(try Data(contentsOf: url), file: "inventory.yaml")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.inventory.resources.first { $0.key == "payments-api" }?.name == "Payments API (refunds, payouts)")
    }

    @Test("defaults lean to risk: an unstated third_party is third party, input_trust untrusted, signed and lineage false")
    func defaults() throws {
        let parsed = try InventoryReader.read(
            Data(
                """
                models: [{key: m1}, {key: m2, trained_on: [d1]}]
                datasets: [{key: d1}]
                agents: [{key: a1}]
                credentials: [{key: c1}]
                """.utf8), file: "d.yaml"
        ).get().inventory
        let m1 = try #require(parsed.models.first { $0.key == "m1" })
        #expect(m1.thirdParty == true)
        #expect(m1.signed == false && m1.lineageVerified == false && m1.trainingDataDeclared == false)
        #expect(m1.serialization == .unknown)
        #expect(parsed.models.first { $0.key == "m2" }?.trainingDataDeclared == true)
        #expect(parsed.datasets.first?.provenance == .unknown)
        #expect(parsed.agents.first?.inputTrust == .untrusted)
        #expect(parsed.credentials.first?.kind == .other)
        #expect(parsed.credentials.first?.exposed == false)
    }

    @Test("credential kinds other sources use are read as their kind; problem listings are capped and counted by kind")
    func kindsAndCaps() throws {
        let parsed = try InventoryReader.read(
            Data(
                """
                credentials: [{key: c1, kind: service_account_key}, {key: c2, kind: PAT}, {key: c3, kind: access-key-id}, {key: c4, kind: oidc}]
                """.utf8), file: "k.yaml"
        ).get().inventory
        #expect(parsed.credentials.map(\.kind) == [.serviceAccount, .personalAccessToken, .accessKey, .workloadIdentity])

        let many = "credentials:\n" + (0..<5000).map { "  - {key: c\($0), kind: keycard}" }.joined(separator: "\n")
        let problems = Self.problems(many).problems
        #expect(problems.count == 5000)
        let text = InventoryProblems(problems).description
        #expect(text.split(separator: "\n").count < 110, "a listing of 5,000 is capped")
        #expect(text.contains("… and 4900 more:"))
        #expect(text.contains("4900 × in.yaml: credentials[].kind: '…' is not a credential kind"))
    }

    @Test("an empty file or one with no section is refused, not read as nothing changed")
    func emptyFiles() {
        for text in ["", "# only a comment\n", "version: 1\n", "{}"] {
            let found = Self.problems(text, file: "e.yaml").problems.map(\.message)
            #expect(found == ["no inventory in e.yaml: none of the sections models, datasets, agents, credentials, resources"], "\(text.debugDescription)")
        }
    }

    @Test("YAML alias bombs and deep nesting are refused in well under a second; duplicate keys, NUL and bad UTF-8 are refused")
    func boundedParsing() {
        var bomb = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        for i in 1...9 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        bomb += "models: *a9\n"
        let clock = ContinuousClock()
        let started = clock.now
        let found = Self.problems(bomb, file: "bomb.yaml").problems.map(\.message)
        #expect(clock.now - started < .seconds(1))
        #expect(found.first?.contains("expands to more than") == true, "\(found)")

        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(Self.problems("{\"models\": \(deep)}", file: "deep.json").problems.first?.message.contains("nests deeper than 64 levels") == true)
        #expect(Self.problems("{\"models\": [], \"models\": [{\"key\": \"m\"}]}", file: "dup.json").problems.first?.message.contains("the field 'models' appears twice") == true)
        let duplicate = Self.problems("models: []\nmodels: [{key: m, name: \"hf_abcdefghijklmnopqrstuvwxyz0123456789\"}]\n", file: "dup.yaml").problems.first?.message ?? ""
        #expect(duplicate.contains("the key(s) 'models' appear twice in one mapping"), "\(duplicate)")
        #expect(!duplicate.contains("hf_"), "the error does not quote the document")
        #expect(Self.problems("{\"models\": [{\"key\": \"m\", \"name\": \"a\\u0000b\"}]}", file: "nul.json").problems.first?.message.contains("NUL") == true)
        var invalid = Data("{\"models\": [{\"key\": \"m\", \"name\": \"".utf8)
        invalid.append(contentsOf: [0xC3, 0x28])
        invalid.append(contentsOf: Data("\"}]}".utf8))
        #expect(InventoryReader.readAll(invalid, file: "bad.json").problems.first?.message.contains("invalid UTF-8") == true)
    }
}
