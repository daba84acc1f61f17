import Foundation
import SleeperCore
import Testing

/// The readers of the formats sources speak: official CycloneDX vectors and files of our own.
@Suite("Source readers", .timeLimit(.minutes(2)))
struct SourceReaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures")

    static func read(_ path: String, format: SourceFormat? = nil, source: String? = nil) throws -> ParsedInventory {
        let url = fixtures.appending(path: path)
        return EstateReader.read(try Data(contentsOf: url), file: url.path, format: format, source: source)
    }

    @Test(
        "the official CycloneDX 1.5, 1.6 and 1.7 machine-learning vectors: one model, its dataset, no false secret alarm on the card's text or base64 image",
        arguments: ["valid-machine-learning-1.5.json", "valid-machine-learning-1.6.json", "valid-machine-learning-1.7.json"])
    func officialVectors(_ name: String) throws {
        let parsed = try Self.read("cyclonedx/" + name)
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .cyclonedx)
        let model = try #require(parsed.inventory.models.first)
        #expect(parsed.inventory.models.count == 1)
        #expect(model.key == "CompVis/stable-diffusion@1.4")
        #expect(model.supplier == (name.contains("1.5") ? nil : "Acme Inc"))
        #expect(model.thirdParty, "a model whose supplier is not the BOM's counts as third-party")
        #expect(model.trainedOn == ["CompVis/stable-diffusion@1.4/data/Training-Data"])
        #expect(parsed.inventory.datasets.map(\.name) == ["Training Data"])
        #expect(model.trainingDataDeclared)
    }

    @Test("the official considerations vector: the supplier, no lineage invented")
    func considerationsVector() throws {
        let parsed = try Self.read("cyclonedx/valid-machine-learning-considerations-env-1.6.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        let model = try #require(parsed.inventory.models.first)
        #expect(model.key == "meta-llama/Llama-2-7b")
        #expect(model.supplier == "Hugging Face")
        #expect(model.derivedFrom.isEmpty)
    }

    @Test("a multi-model AI-BOM: digests, lineage from dependencies and pedigree with the stated or an unknown relation, training from refs")
    func multiModelBOM() throws {
        let parsed = try Self.read("sources/acme-ai-bom.cdx.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.name == "cyclonedx:acme-support-platform")
        let models = Dictionary(uniqueKeysWithValues: parsed.inventory.models.map { ($0.key, $0) })
        #expect(Set(models.keys) == ["meta-llama/Llama-3-8B", "acme/support-ft@2.1", "acme/support-ft-q4@2.1", "router"])
        #expect(models["meta-llama/Llama-3-8B"]?.digest == "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        #expect(models["meta-llama/Llama-3-8B"]?.thirdParty == true)
        #expect(models["acme/support-ft@2.1"]?.thirdParty == false, "the BOM's own supplier is first-party")
        #expect(models["acme/support-ft@2.1"]?.derivedFrom == [.init(model: "meta-llama/Llama-3-8B", relation: .finetune)])
        #expect(models["acme/support-ft@2.1"]?.trainedOn == ["support-tickets-2025"])
        #expect(
            models["acme/support-ft-q4@2.1"]?.derivedFrom == [.init(model: "acme/support-ft@2.1", relation: .unknown)],
            "pedigree and dependencies name the same parent once, with no relation stated: unknown, not finetune")
        #expect(models["router"]?.derivedFrom == [.init(model: "mistralai/Mistral-7B", relation: .unknown)])
        #expect(parsed.source?.stubs.models.map(\.key) == ["mistralai/Mistral-7B"], "an ancestor described nowhere is only named")
        #expect(parsed.inventory.datasets.map(\.key) == ["support-tickets-2025"])
    }

    @Test("a BOM's pedigree ancestor that repeats a component's bom-ref (without its version) is that component: one entity, one parent edge")
    func ancestorByReference() {
        let bom = #"""
            {"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"name": "acme"}, "supplier": {"name": "Acme"}},
             "components": [
               {"type": "machine-learning-model", "bom-ref": "base", "group": "acme", "name": "base", "version": "1.0", "supplier": {"name": "Acme"}},
               {"type": "machine-learning-model", "bom-ref": "ft", "group": "acme", "name": "ft", "version": "2.0", "supplier": {"name": "Acme"},
                "pedigree": {"ancestors": [{"type": "machine-learning-model", "bom-ref": "base", "group": "acme", "name": "base"}]}}],
             "dependencies": [{"ref": "ft", "dependsOn": ["base"]}]}
            """#
        let parsed = EstateReader.read(Data(bom.utf8), file: "bom.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.inventory.models.map(\.key) == ["acme/base@1.0", "acme/ft@2.0"])
        #expect(parsed.source?.stubs.models.isEmpty == true, "no second entity for the ancestor: \(parsed.source?.stubs.models.map(\.key) ?? [])")
        #expect(parsed.inventory.models.last?.derivedFrom.map(\.model) == ["acme/base@1.0"])
    }

    @Test("a Hugging Face card: the folder names the model; base_model with its relation, a list means a merge; datasets")
    func modelCards() throws {
        let card = try Self.read("sources/acme-support-ft/README.md")
        #expect(card.problems.isEmpty, "\(card.problems)")
        #expect(card.source?.format == .huggingFaceCard)
        let model = try #require(card.inventory.models.first)
        #expect(model.key == "acme-support-ft")
        #expect(model.derivedFrom == [.init(model: "meta-llama/Meta-Llama-3-8B-Instruct", relation: .adapter)])
        #expect(model.trainedOn == ["acme/support-tickets", "HuggingFaceH4/ultrachat_200k"])
        #expect(card.source?.stubs.models.first?.supplier == "meta-llama")

        let merge = try Self.read("sources/merged-card.yaml", format: .huggingFaceCard)
        #expect(merge.problems.isEmpty, "\(merge.problems)")
        let merged = try #require(merge.inventory.models.first)
        #expect(merged.key == "acme/sales-merge")
        #expect(merged.derivedFrom.map(\.relation) == [.merge, .merge])
        #expect(merged.supplier == "acme")

        let bad = EstateReader.read(Data("---\nbase_model: x\nbase_model_relation: distill\n---\n".utf8), file: "m/README.md")
        #expect(bad.problems.map(\.description) == ["m/README.md: base_model_relation: 'distill' is not adapter, merge, quantized or finetune"])
        let open = EstateReader.read(Data("---\nbase_model: x\n".utf8), file: "m/README.md")
        #expect(open.problems.first?.message.contains("not closed") == true)
    }

    static let header =
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

    @Test("the AWS credential report: one credential per active key, N/A as never, the root row and console users reported, a wrong header or a cut row located")
    func awsReport() throws {
        let csv =
            Self.header + """

                <root_account>,arn:aws:iam::123456789012:root,2019-03-01T09:00:00+00:00,not_supported,2026-10-01T08:00:00+00:00,not_supported,not_supported,true,TRUE,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
                svc-pay,arn:aws:iam::123456789012:user/svc-pay,2024-01-10T10:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-10T10:05:00+00:00,2026-11-29T17:42:00+00:00,eu-west-1,s3,true,2026-06-01T12:00:00Z,N/A,N/A,N/A,false,N/A,false,N/A
                alice,arn:aws:iam::123456789012:user/alice,2022-05-01T10:00:00+00:00,true,2026-11-28T09:00:00+00:00,2026-05-01T10:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A

                """
        let parsed = EstateReader.read(Data(csv.utf8), file: "report.csv")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .awsCredentialReport)
        #expect(parsed.source?.name == "aws:123456789012")
        let keys = parsed.inventory.credentials
        #expect(keys.map(\.key) == ["aws:123456789012:svc-pay:key1", "aws:123456789012:svc-pay:key2"])
        #expect(keys.allSatisfy { $0.kind == .accessKey && $0.owner == "svc-pay" && $0.provider == "aws" })
        #expect(keys[0].lastUsedAt == Timestamps.parse("2026-11-29T17:42:00Z"))
        #expect(keys[0].lastRotatedAt == Timestamps.parse("2024-01-10T10:05:00Z"))
        #expect(keys[1].lastUsedAt == nil, "N/A: never used")
        #expect(parsed.source?.findings.contains("the root account has 1 active access key(s): delete them (they are not imported)") == true)
        #expect(parsed.source?.findings.contains("1 user(s) sign in to the console only: people, not imported") == true)

        // A key made inactive still exists: kept as disabled (not live), and said so.
        let inactive = EstateReader.read(
            Data(
                (Self.header + "\nsvc,arn:aws:iam::1:user/svc,2024-01-10T10:00:00+00:00,false,N/A,N/A,N/A,false,false,2024-01-10T10:05:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
                    .utf8), file: "r.csv")
        #expect(inactive.inventory.credentials.map { "\($0.key) \($0.state)" } == ["aws:1:svc:key1 disabled"])
        #expect(inactive.source?.findings == ["1 inactive access key(s) imported as disabled: not live, scored 0, listed apart"])
        let wrong = EstateReader.read(Data("user,arn,user_creation_time,password_enabled\nx,y,z,w\n".utf8), file: "r.csv", format: .awsCredentialReport)
        #expect(wrong.problems.first?.description.hasPrefix("r.csv: line 1: missing column(s) password_last_used") == true, "\(wrong.problems)")
        let cut = EstateReader.read(Data((Self.header + "\nsvc,arn:aws:iam::1:user/svc,2024-01-10T10:00:00+00:00,false\n").utf8), file: "r.csv")
        #expect(cut.problems.map(\.description) == ["r.csv: line 2: has 4 fields, not 22 (a truncated or edited report?)"])
        let date = EstateReader.read(
            Data((Self.header + "\nsvc,arn:aws:iam::1:user/svc,x,false,N/A,N/A,N/A,false,true,yesterday,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n").utf8), file: "r.csv")
        #expect(date.problems.map(\.description) == ["r.csv: line 2: access_key_1_last_rotated: 'yesterday' is not a date (ISO 8601, or N/A)"])
    }

    @Test("MCP configs: servers are agents the client delegates to; a ${VAR} is a held credential; a literal secret is a finding, never stored or repeated, and an exposed credential")
    func mcpConfigs() throws {
        let parsed = try Self.read("sources/claude_desktop_config.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .mcpConfig)
        #expect(parsed.source?.name == "mcp:claude_desktop_config")
        let agents = Dictionary(uniqueKeysWithValues: parsed.inventory.agents.map { ($0.key, $0) })
        let client = try #require(agents["mcp:claude_desktop_config"])
        #expect(client.delegatesTo == ["mcp:claude_desktop_config/github", "mcp:claude_desktop_config/payments", "mcp:claude_desktop_config/tickets"])
        #expect(agents["mcp:claude_desktop_config/payments"]?.holds == [.init(credential: "env:PAYMENTS_API_KEY", delivery: .runtimeEnv)])
        #expect(agents["mcp:claude_desktop_config/tickets"]?.holds.map(\.credential) == ["env:tickets-token"])
        let literal = try #require(parsed.inventory.credentials.first { $0.key == "mcp:claude_desktop_config/github/GITHUB_PERSONAL_ACCESS_TOKEN" })
        #expect(literal.exposed && literal.kind == .personalAccessToken)
        let findings = parsed.source?.findings ?? []
        #expect(findings.count == 1 && findings[0].contains("mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN: secret material in an MCP config (OWASP NHI2)"))
        #expect(!"\(parsed)".contains("ghp_R2d2"), "the secret is nowhere in what was read")

        // Claude Code's ~/.claude.json keeps servers per project; a header holding a literal bearer token is a finding too.
        let claudeCode = EstateReader.read(
            Data(
                #"""
                {"numStartups": 3, "projects": {"/work/app": {"mcpServers": {"jira": {"type": "http", "url": "https://mcp.example.com",
                 "headers": {"Authorization": "Bearer 0123456789abcdefXYZ0123456789"}}}}, "/work/other": {"mcpServers": {}}}}
                """#.utf8), file: ".claude.json", source: "mcp:dev-laptop")
        #expect(claudeCode.problems.isEmpty, "\(claudeCode.problems)")
        #expect(claudeCode.source?.format == .mcpConfig)
        #expect(claudeCode.inventory.agents.map(\.key).sorted() == ["mcp:dev-laptop", "mcp:dev-laptop/jira"])
        #expect(claudeCode.inventory.agents.first { $0.key == "mcp:dev-laptop/jira" }?.endpoints == ["https://mcp.example.com"], "a remote server's URL is its endpoint")
        #expect(claudeCode.inventory.agents.first { $0.key == "mcp:dev-laptop" }?.endpoints == [])
        #expect(claudeCode.inventory.credentials.map(\.key) == ["mcp:dev-laptop/jira/Authorization"])
        #expect(claudeCode.source?.findings.first?.contains("projects./work/app.mcpServers.jira.headers.Authorization") == true)
        #expect(!"\(claudeCode)".contains("0123456789abcdefXYZ"))

        let vscode = try Self.read("sources/vscode-mcp.json")
        #expect(vscode.problems.isEmpty, "\(vscode.problems)")
        #expect(vscode.inventory.credentials.map(\.key) == ["env:db-password"])
        #expect(vscode.inventory.credentials.first?.kind == .databasePassword)
    }

    @Test("VS Code's settings.json: MCP servers under mcp.servers beside other settings, read through comments and trailing commas")
    func vscodeSettings() {
        let settings = #"""
            // User settings
            {
              "editor.fontSize": 14, /* kept as it is */
              "mcp": {
                "servers": {
                  // The GitHub server, remote
                  "github": {"type": "http", "url": "https://api.githubcopilot.example/mcp/", "headers": {"Authorization": "Bearer ${input:gh-token}"},},
                  "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv/docs"]},
                },
              },
            }
            """#
        let parsed = EstateReader.read(Data(settings.utf8), file: ".vscode/settings.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .mcpConfig)
        #expect(parsed.inventory.agents.map(\.key).sorted() == ["mcp:settings", "mcp:settings/files", "mcp:settings/github"], "\(parsed.inventory.agents.map(\.key))")
        #expect(parsed.inventory.agents.first { $0.key == "mcp:settings/github" }?.endpoints == ["https://api.githubcopilot.example/mcp/"])
        #expect(parsed.inventory.credentials.map(\.key) == ["env:gh-token"])
        // A comment marker inside a string is text, not a comment.
        #expect(
            String(decoding: JSONWithComments.plain(Data(#"{"u": "https://x//y", "a": [1, 2,], /* c */ "b": 3,}"#.utf8)), as: UTF8.self)
                == #"{"u": "https://x//y", "a": [1, 2 ],         "b": 3 }"#)
    }

    @Test("SPDX 3.0.1 AI and Dataset profiles: packages, the supplier by reference, a SHA-256, trainedOn, and lineage from ancestorOf and descendantOf once")
    func spdx() throws {
        let parsed = try Self.read("sources/acme-ai.spdx3.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .spdx)
        #expect(parsed.source?.name == "spdx:acme-router-ai-bom")
        let models = Dictionary(uniqueKeysWithValues: parsed.inventory.models.map { ($0.key, $0) })
        #expect(models["acme-router@1.2"]?.derivedFrom == [.init(model: "Mistral-7B-Instruct@0.3", relation: .unknown)])
        #expect(models["acme-router@1.2"]?.trainedOn == ["routing-labels@2026-10"])
        #expect(models["Mistral-7B-Instruct@0.3"]?.supplier == "Mistral AI")
        #expect(models["Mistral-7B-Instruct@0.3"]?.digest == "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
        let notSPDX = EstateReader.read(Data(#"{"@context": "https://schema.org", "@graph": []}"#.utf8), file: "x.json", format: .spdx)
        #expect(notSPDX.problems.first?.message.contains("not SPDX 3 JSON-LD") == true)
    }

    @Test("GCP keys: user-managed keys, year 9999 as no expiry, exposed by reason or status; a disabled key kept as disabled; system-managed keys reported")
    func gcpKeys() throws {
        let parsed = try Self.read("sources/gcp-keys.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .gcpServiceAccountKeys)
        #expect(parsed.source?.name == "gcp:acme-prod")
        let keys = parsed.inventory.credentials
        #expect(keys.count == 3, "\(keys.map(\.key))")
        #expect(
            Array(keys.map(\.key).prefix(2)) == [
                "gcp:acme-prod:payments-agent@acme-prod.iam.gserviceaccount.com:1f2e3d4c5b6a79880011223344556677",
                "gcp:acme-prod:ci-deployer@acme-prod.iam.gserviceaccount.com:aa00bb11cc22dd33ee44ff5566778899",
            ])
        #expect(keys[0].expiresAt == nil && !keys[0].exposed && keys[0].kind == .serviceAccount && keys[0].state == .active)
        // Disabled because Google found it exposed: exposed, and not live.
        #expect(keys[1].exposed && keys[1].expiresAt == Timestamps.parse("2026-12-28T09:00:00Z") && keys[1].state == .disabled)
        #expect(keys[2].state == .disabled && !keys[2].exposed)
        #expect(parsed.source?.findings == ["1 system-managed key(s) (rotated by Google) not imported", "2 disabled key(s) imported as disabled: not live, scored 0, listed apart"])
    }

    @Test("GitHub fine-grained tokens: owner, permissions as scopes, expiry and last use, null as none")
    func githubTokens() throws {
        let parsed = try Self.read("sources/github-tokens.json", source: "github:acme")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .githubTokens)
        let tokens = parsed.inventory.credentials
        #expect(tokens.map(\.key) == ["github:pat:98716", "github:pat:98717"])
        #expect(tokens[0].owner == "octo-bot" && tokens[0].kind == .personalAccessToken)
        #expect(tokens[0].scopes == ["organization:members:read", "repository:contents:write", "repository:metadata:read", "repositories:subset"])
        #expect(tokens[0].lastUsedAt == Timestamps.parse("2026-11-29T08:15:00Z"))
        #expect(tokens[1].expiresAt == nil && tokens[1].lastUsedAt == nil)
        #expect(tokens.allSatisfy { $0.state == .active })
        // GitHub says a token expired: kept, not live.
        let expired = EstateReader.read(
            Data(#"[{"token_id": 7, "token_name": "old", "owner": {"login": "bob"}, "permissions": {}, "token_expired": true, "token_expires_at": "2026-01-01T00:00:00Z"}]"#.utf8),
            file: "tokens.json")
        #expect(expired.problems.isEmpty, "\(expired.problems)")
        #expect(expired.inventory.credentials.map(\.state) == [.expired])
    }

    @Test("Kubernetes: federated service accounts, legacy token secrets with their last use, invalidated ones reported, secret values never read")
    func kubernetes() throws {
        let parsed = try Self.read("sources/kubectl-sa-secrets.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .kubernetes)
        let keys = Dictionary(uniqueKeysWithValues: parsed.inventory.credentials.map { ($0.key, $0) })
        #expect(Set(keys.keys) == ["k8s:agents:payments-agent", "k8s:ops:legacy-batch", "k8s:ops:secret/legacy-batch-token"])
        #expect(keys["k8s:agents:payments-agent"]?.kind == .workloadIdentity)
        #expect(keys["k8s:agents:payments-agent"]?.owner == "payments-team")
        #expect(keys["k8s:ops:secret/legacy-batch-token"]?.lastUsedAt == Timestamps.day("2026-11-20"))
        #expect(keys["k8s:ops:secret/legacy-batch-token"]?.owner == "ops/legacy-batch")
        #expect(parsed.source?.findings == ["1 legacy token secret(s) already invalidated, not imported"])
        #expect(!"\(parsed)".contains("bm90LWEt"))
    }

    @Test("Entra applications: client secrets and certificates with their dates, never the secret's hint")
    func entra() throws {
        let parsed = try Self.read("sources/entra-applications.json")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.source?.format == .entra)
        #expect(parsed.source?.name == "entra:acme.onmicrosoft.com")
        let keys = parsed.inventory.credentials
        #expect(keys.map(\.kind) == [.oauthClient, .certificate])
        #expect(keys[0].key == "entra:5b8e4a1c-7d2f-4e39-a0b6-2c9d1e8f3a47:e1c2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f")
        #expect(keys[0].owner == "invoice-agent" && keys[0].expiresAt == Timestamps.parse("2028-01-10T00:00:00Z"))
        #expect(!"\(parsed)".contains("Q~x"))
    }

    @Test("the format is told from the content; a file forced into the wrong format is refused, naming the format expected")
    func detection() throws {
        func format(_ text: String, _ file: String) -> SourceFormat { SourceFormat.detect(Data(text.utf8), file: file) }
        #expect(format(Self.header + "\n", "x.csv") == .awsCredentialReport)
        #expect(format(#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#, "x.json") == .cyclonedx)
        #expect(format(#"{"mcpServers": {}}"#, "x.json") == .mcpConfig)
        #expect(format(#"{"agents": [], "servers": []}"#, "x.json") == .sleeper)
        #expect(format("---\nbase_model: a/b\n---\n", "README.md") == .huggingFaceCard)
        #expect(format("models:\n- key: a\n", "x.yaml") == .sleeper)
        for (file, expected) in [
            ("acme-ai.spdx3.json", SourceFormat.spdx), ("gcp-keys.json", .gcpServiceAccountKeys), ("github-tokens.json", .githubTokens),
            ("kubectl-sa-secrets.json", .kubernetes), ("entra-applications.json", .entra), ("vscode-mcp.json", .mcpConfig),
        ] {
            #expect(SourceFormat.detect(try Data(contentsOf: Self.fixtures.appending(path: "sources/" + file)), file: file) == expected, "\(file)")
        }
        let forced = try Self.read("sources/claude_desktop_config.json", format: .cyclonedx)
        #expect(forced.problems.first?.message.contains("not a CycloneDX BOM") == true)
        let bad = try Self.read("sources/acme-ai-bom.cdx.json", source: "bad name!")
        #expect(bad.problems.contains { $0.message.contains("source name 'bad name!'") })
    }
}
