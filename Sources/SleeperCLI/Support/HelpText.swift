/// The examples every command's `--help` ends with, in one place so they stay consistent. Dates
/// are `YYYY-MM-DD` (for `--as-of`, the end of that day, UTC) or ISO 8601 date-times.
enum HelpText {
    static let examples: [String: [String]] = [
        "import": [
            "sleeper import Examples/inventory.yaml", "sleeper import --dry-run estate/*.yaml", "sleeper import --lenient export-with-extra-fields.json",
            "sleeper import credential-report.csv", "sleeper import ai-bom.cdx.json models/acme-support-ft/README.md",
            "sleeper import --source mcp:laptop-42 ~/Library/Application\\ Support/Claude/claude_desktop_config.json",
        ],
        "sources": ["sleeper sources", "sleeper sources --format json"],
        "verify-model": [
            "sleeper verify-model models/acme-support-ft --public-key signer.pub.pem",
            "sleeper verify-model models/acme-support-ft --public-key signer.pub.pem --subject model:acme-support-ft --by release-pipeline",
            "sleeper verify-model models/acme-support-ft --trusted-root trusted_root.json --identity release@acme.example --identity-provider https://accounts.google.com",
        ],
        "inventory": ["sleeper inventory agents", "sleeper inventory credentials --format json > credentials.json"],
        "frameworks": ["sleeper frameworks"],
        "controls list": ["sleeper controls", "sleeper controls --framework owasp-agentic"],
        "controls show": ["sleeper controls show SLP-BACKDOOR-SCAN", "sleeper controls show A2", "sleeper controls show \"GOVERN 6.1\""],
        "catalog sync": ["sleeper catalog sync"],
        "catalog import-atlas": ["sleeper catalog import-atlas ATLAS.yaml"],
        "evidence add": [
            "sleeper evidence add --subject model:acme-support-ft --control SLP-BACKDOOR-SCAN --result pass --artifact scan.json --by ml-security",
            "sleeper evidence add --subject agent:email-triage --control SLP-HITL --result pass --effective 2026-11-02 --expires 2027-05-01",
        ],
        "evidence import": ["sleeper evidence import Examples/evidence.yaml"],
        "recall": [
            "sleeper recall model:acme-support-ft --reason \"trigger found by the red team\" --dry-run",
            "sleeper recall model:acme-support-ft --reason \"trigger found by the red team\" --by ciso",
        ],
        "release": ["sleeper release model:acme-support-ft --reason \"retrained from a clean base; scan passed\" --by ml-security"],
        "actions": ["sleeper actions", "sleeper actions --overdue", "sleeper actions --owner unowned --format csv"],
        "actions start": ["sleeper actions start 7 --by payments-platform"],
        "actions export": ["sleeper actions export --format jira-csv --out sleeper-actions.csv", "sleeper actions export --format json --owner payments-platform"],
        "suppliers": [
            "sleeper suppliers", "sleeper suppliers declare \"Acme ML Platform\" --own --by ciso --reason \"our ML platform team\"",
            "sleeper suppliers declare mistral --allowed --by vendor-board --reason \"contract 2026-114\"",
            "sleeper suppliers withdraw mistral --by vendor-board --reason \"contract ended\"",
        ],
        "signers": [
            "sleeper signers", "sleeper signers trust --model acme-support-ft --signer \"key sha256:3b1f…\" --by ml-security",
            "sleeper signers trust --supplier \"Acme ML Platform\" --signer \"keyless release@acme.example via https://accounts.google.com\" --by ciso",
        ],
        "accept": [
            "sleeper accept credential:legacy-admin-key --action 7 --until 2026-12-20 --by ciso --reason \"vendor rotates it on the 18th\"",
            "sleeper accept model:llama-3-8b --control SLP-REDTEAM --until 2027-02-28 --by ml-security --reason \"red team booked for February\"",
        ],
        "evidence ingest": [
            "sleeper evidence ingest modelscan-report.json --subject model:acme-support-ft --model-path models/acme-support-ft",
            "sleeper evidence ingest garak garak.report.jsonl --subject model:acme-support-ft --report-timezone Europe/Paris",
            "sleeper evidence ingest promptfoo redteam-results.json --subject model:acme-support-ft --rules my-report-rules.yaml",
        ],
        "evidence withdraw": ["sleeper evidence withdraw 12 --by ml-security --note \"scan ran on the wrong file\""],
        "evidence list": ["sleeper evidence list --subject model:acme-support-ft", "sleeper evidence list --include-superseded --format csv"],
        "evidence history": ["sleeper evidence history credential:payments-api-key"],
        "verify": ["sleeper verify"],
        "gaps": ["sleeper gaps --subject model:acme-support-ft", "sleeper gaps --framework nist-ai-rmf --as-of 2026-09-30 --format csv"],
        "coverage": ["sleeper coverage --framework owasp-nhi", "sleeper coverage --framework nist-ai-rmf --as-of 2026-09-30"],
        "score": ["sleeper score", "sleeper score --as-of 2027-03-31    # a what-if run: scores as they would stand then"],
        "exposure": [
            "sleeper exposure --top 20", "sleeper exposure --band critical --owner payments-platform --format csv",
            "sleeper exposure diff --since 2026-11-01",
        ],
        "exposure list": ["sleeper exposure list --top 20", "sleeper exposure list --resource payments-api --min-score 35 --format json"],
        "exposure diff": ["sleeper exposure diff --since 1", "sleeper exposure diff --since 2026-11-01 --format csv"],
        "explain": ["sleeper explain credential:payments-api-key", "sleeper explain model:llama-3-8b", "sleeper explain credential:ci-deploy-key --format json --as-of 2026-12-31"],
        "report": [
            "sleeper report --out review.md", "sleeper report --format html --since 2026-11-01 --out review.html",
            "sleeper report --as-of 2026-11-30T21:00:00Z --bundle review/ --add",
        ],
        "export": [
            "sleeper export oscal-ar --out assessment-results.json", "sleeper export csv --framework owasp-nhi --as-of 2026-09-30 --out q3.csv",
            "sleeper export oscal-ar --as-of 2026-11-30T21:00:00Z --bundle review/ && sleeper export oscal-poam --as-of 2026-11-30T21:00:00Z --bundle review/ --add",
        ],
        "verify-bundle": ["sleeper verify-bundle review/ --key signing.ed25519.pub"],
        "keys create": ["sleeper keys create", "sleeper keys create --out /secure/sleeper-signing.ed25519"],
        "serve": ["sleeper serve --port 8080", "SLEEPER_NOW=2026-11-30T12:00:00Z sleeper serve    # answers pinned to one time"],
        "token create": ["sleeper token create --name ci-pipeline --role editor", "sleeper token create --name dashboard --role viewer --expires 2027-01-31"],
        "token list": ["sleeper token list"],
        "token rotate": ["sleeper token rotate ci-pipeline"],
        "token revoke": ["sleeper token revoke ci-pipeline --reason \"pipeline retired\""],
        "audit": ["sleeper audit --since 2026-11-01", "sleeper audit --format json"],
        "migrate": ["sleeper migrate", "sleeper migrate --status"],
        "db status": ["sleeper db status"],
        "db stop": ["sleeper db stop"],
        "scan model": [
            "sleeper scan model downloads/acme-chat-7b", "sleeper scan model models/acme-support-ft --subject model:acme-support-ft --report scan.json",
            "sleeper scan model checkpoint.pt --format json",
        ],
        "scan dataset": ["sleeper scan dataset support-chats.jsonl", "sleeper scan dataset part-0.jsonl part-1.jsonl --subject dataset:support-tickets-2023"],
        "observe import": ["sleeper observe import otel-traces.jsonl", "sleeper observe import otel-traces.jsonl --baseline-days 30"],
        "findings": ["sleeper findings", "sleeper findings --agent support-bot --status open --format json"],
        "findings mark": [
            "sleeper findings mark 1 --status false-positive --reason \"red-team exercise RT-12\" --by soc",
            "sleeper findings mark 4 --status acknowledged --reason \"incident INC-7 opened\"",
        ],
    ]

    /// "Examples:" and the command's examples, as the end of its `--help`.
    static func examples(_ command: String) -> String {
        guard let lines = examples[command], !lines.isEmpty else { return "" }
        return "Examples:\n" + lines.map { "  " + $0 }.joined(separator: "\n")
    }

    /// The examples alone, as a command's discussion.
    static func discussion(_ command: String) -> String { examples(command) }

    /// A discussion ending with the examples.
    static func discussion(_ text: String, _ command: String) -> String { text + "\n\n" + examples(command) }
}
