import Foundation
import SleeperCore
import Testing

/// A corpus of secret shapes (made-up values in each provider's documented format) and of real AI
/// identifiers. Every secret must be caught wherever it is pasted; no identifier may be refused.
/// docs/inventory-and-sources.md reports these counts.
@Suite("Secret corpus", .timeLimit(.minutes(2)))
struct SecretCorpusTests {
    static let secrets: [String] = [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7Yx\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "PuTTY-User-Key-File-3: ssh-ed25519",
        "AGE-SECRET-KEY-1QQPQZS7Z8S8L0ZFGDWWR9T7M5RXJKCEXAMPLE9E2KTWMYZ5S3FZSQ8RZRL",
        "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A", "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
        "glpat-xXxXxXxXxXxXxXxXxXxX", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "rk_test_51H8aBcDeFgHiJkLmNoPqRsT",
        "AIzaSyD-1234567890abcdefghijklmnopqrstu", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
        "api_org_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_session_token=FwoGZXIvYXdzEBYaDHhEXAMPLE",
        "jdbc:postgresql://db.internal:5432/app?user=svc&password=S3cretValue",
        "Server=tcp:db.example.net;Database=app;User Id=svc;Password=Hunter2Hunter2;",
        "postgres://svc:pa55w0rd@db.internal/app", "https://user:p4ss/w0rd@git.example.com/repo.git",
        "mongodb+srv://admin:Sup3rS3cret@cluster0.example.mongodb.net",
        "SKa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
        "0123456789abcdef0123456789abcdef-us21", "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",
        "dapia1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "dop_v1_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "SG.AbCdEfGhIjKlMnOpQrStUv.WxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz01",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "client_secret=Q8x~abcDEF123ghiJKL456", "API_KEY=Zx9Qw8Er7Ty6Ui5Op4As", "PASSWORD=correcthorsebattery",
        "pwd=Tr0ub4dor&3x", "kR7vQ2mX9pL4zW8nB3cJ6hT1yF5gD0sA",
        "DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey=Zm9vYmFyYmF6cXV4cXV1eHF1dXpGb29CYXI=;",
        // Shapes a probe found missed (2026-12-07), one or more of each.
        "glrt-t1_AbCdEfGhIjKlMnOpQrSt", "gldt-AbCdEfGhIjKlMnOpQrSt12", "glptt-0123456789abcdef0123456789abcdef01234567",
        "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef0123456789",
        "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/AbCdEfGhIjKlMnOpQrStUvWx",
        "redis://:S3cr3tRedisPass@cache.internal:6379/0", "POSTGRES://svc:pa55w0rd@db.internal/app",
        "HTTPS://deploy:Tok3nValue99@git.example.com/org/repo.git",
        "AC0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef",
        "TWILIO_AUTH_TOKEN 0123456789abcdef0123456789abcdef", "twilio auth token: a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "DD_API_KEY=0123456789abcdef0123456789abcdef", "datadog app key: 0123456789abcdef0123456789abcdef01234567",
        "dckr_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0", "dckr_oat_AbCdEfGhIjKlMnOpQrStUvWxYz0",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "password=\"hunter2hunter2\"", "password: hunter2hunter2", "db_password: 'S0meth1ngLong'",
        "DB_PASS=ohsosecret", "TOKEN=abcdef123456", "export GITHUB_TOKEN=not-a-real-token-1234",
        "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "authorization: Bearer abc.def.ghi-jkl_mno",
        "curl -H 'Authorization: Token 0123456789abcdef' https://api.example.com",
    ]

    static let identifiers: [String] = [
        "mistralai/Mixtral-8x7B-Instruct-v0.1", "Qwen/Qwen2.5-Coder-32B-Instruct-GPTQ-Int4", "meta-llama/Meta-Llama-3.1-70B-Instruct",
        "TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "microsoft/Phi-3-mini-4k-instruct", "google/gemma-2-9b-it",
        "sentence-transformers/all-MiniLM-L6-v2", "BAAI/bge-large-en-v1.5", "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
        "NousResearch/Hermes-2-Pro-Llama-3-8B", "tiiuae/falcon-40b-instruct", "stabilityai/stable-diffusion-xl-base-1.0",
        "HuggingFaceH4/ultrachat_200k", "allenai/c4", "openai/gsm8k", "bigcode/the-stack-v2-dedup",
        "arn:aws:iam::123456789012:role/SleeperReadOnlyRole", "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ProdLLMEndpoint-2026",
        "projects/ml-prod-4821/locations/us-central1/endpoints/8841234567890123456",
        "sha256:1f9c2a7e4b0d3c8a5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d", "a3f5c2d1e4b6a7980f1e2d3c4b5a69788f7e6d5c",
        "ds_2024Q3_SupportTickets_v7", "run-2026-11-30T12:00:00Z", "Payments API (refunds, payouts)",
        "models:/ProdRouter/Production", "s3://ml-artifacts-prod/checkpoints/epoch-12/model.safetensors",
        "gs://vertex-models-4821/ProdClassifier_v3/", "us-docker.pkg.dev/ml-prod/serving/router:2026.11.3",
        "workload-identity-pool/ProdGitHubActions", "SLP-BACKDOOR-SCAN",
        // Look-alikes a probe found refused (2026-12-07), and their neighbours.
        "ZGF0YXNldC1zdXBwb3J0LXRpY2tldHMtMjAyNi1xMw==", "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
        "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s", "bWV0YS1sbGFtYS9MbGFtYS0zLjEtOEItSW5zdHJ1Y3Q=",
        "entity/project/runs/3kf9x2ab", "mlflow-run-5f1c2a7e4b0d3c8a5e6f7a8b9c0d1e2f", "git:9fceb02d0ae598e95dc970b74767f19372d61af8",
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-prod/providers/Microsoft.MachineLearningServices/workspaces/Prod",
        "registry.example.com/ml/router@sha256:1f9c2a7e4b0d3c8a5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d",
        "4b2c6f0e-8d1a-4e3b-9c7d-5a6f8e2b1c3d", "max_tokens: 4096", "token: see the vault entry", "passed: 12 of 12 checks",
        "password rotation every 90 days", "the key was rotated by ops on 2026-11-30", "Authorization header is required",
        "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct", "key: payments-refund-key",
    ]

    @Test("every secret shape is caught (the documentation gives the count)")
    func secretsCaught() {
        let missed = Self.secrets.filter { SecretScanner.secretKind(of: $0, field: "note") == nil }
        #expect(missed.isEmpty, "missed: \(missed)")
        #expect(Self.secrets.count >= 65)
    }

    @Test("no real AI identifier is taken for a secret")
    func identifiersPass() {
        let flagged = Self.identifiers.filter { SecretScanner.secretKind(of: $0, field: "name") != nil }
        #expect(flagged.isEmpty, "flagged: \(flagged)")
        #expect(Self.identifiers.count >= 47)
    }

    @Test("a message quoting a secret, or a key made from one, is redacted")
    func redaction() {
        for secret in Self.secrets {
            let message = "name of model 'acme/\(secret)' is not a known model"
            let redacted = SecretScanner.redacted(message)
            for line in secret.split(separator: "\n") where line.count >= 12 && !line.hasPrefix("-----") {
                #expect(!redacted.contains(line), "still shown: \(line) in \(redacted)")
            }
        }
        for id in Self.identifiers { #expect(SecretScanner.redacted("model '\(id)'") == "model '\(id)'") }
    }

    @Test("a secret inside a source's value — and so inside the key made from it — is refused and never repeated, in every source format")
    func sourcesNeverRepeat() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures/sources")
        let secret = "postgresql://admin:Sup3rS3cretPw1@db.internal:5432/app"
        let planted: [(file: String, format: SourceFormat, replace: String)] = [
            ("acme-ai-bom.cdx.json", .cyclonedx, "Llama-3-8B"),
            ("merged-card.yaml", .huggingFaceCard, "acme/sales-ft"),
            ("gcp-keys.json", .gcpServiceAccountKeys, "payments-agent@acme-prod"),
            ("github-tokens.json", .githubTokens, "octo-bot"),
            ("claude_desktop_config.json", .mcpConfig, "github"),
        ]
        for p in planted {
            let text = try String(contentsOf: root.appending(path: p.file), encoding: .utf8)
            #expect(text.contains(p.replace), "\(p.file)")
            let parsed = EstateReader.read(Data(text.replacingOccurrences(of: p.replace, with: secret).utf8), file: p.file, format: p.format)
            #expect(!parsed.problems.isEmpty, "\(p.file): the secret was taken")
            let said = parsed.problems.map(\.description).joined(separator: "\n")
            #expect(!said.contains("Sup3rS3cretPw1"), "\(p.file): \(said)")
        }
        let csv =
            AWSCredentialReportReader.columns.joined(separator: ",") + "\n"
            + "\(secret),arn:aws:iam::123456789012:user/svc,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        let aws = EstateReader.read(Data(csv.utf8), file: "report.csv", format: .awsCredentialReport)
        #expect(!aws.problems.isEmpty && !aws.problems.map(\.description).joined().contains("Sup3rS3cretPw1"), "\(aws.problems)")
        let named = EstateReader.read(try Data(contentsOf: root.appending(path: "github-tokens.json")), file: "t.json", format: .githubTokens, source: "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A")
        #expect(named.problems.contains { $0.message.contains("source name looks like secret material") })
        #expect(!named.problems.map(\.description).joined().contains("aB3dE5fG7hJ9kL1mN3pQ"))
    }

    @Test("fingerprints and digests take their documented shapes and nothing else")
    func identifierFields() {
        for ok in [
            "key_1Nv0xT", "sha256:3f1a9c", "role:support_reader", "app-id:381942", "SHA256:qX4f0a", "client:3MVG9a",
            "arn:aws:iam::123456789012:role/ops-copilot", "AKIAEXAMPLELEGACY01", "aa:bb:cc:dd:ee:ff:00:11", "3f1a9c2b7e",
        ] {
            #expect(SecretScanner.fingerprintProblem(ok) == nil, "\(ok)")
        }
        let random64 = "q3J8vL2xN7pR4tW9zB1cF6hK0mS5uY8eA3dG7jL2nQ6rV1xZ4bC9fH0kM5pT8wE2"
        for bad in [random64, "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A", "password123 with spaces"] {
            #expect(SecretScanner.fingerprintProblem(bad) != nil, "\(bad)")
        }
        #expect(SecretScanner.digestProblem("sha256:1f9c2a7e4b0d") == nil)
        for bad in ["1f9c2a7e4b0d", "sha256:not-hex", random64, "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"] {
            #expect(SecretScanner.digestProblem(bad) != nil, "\(bad)")
        }
    }
}
