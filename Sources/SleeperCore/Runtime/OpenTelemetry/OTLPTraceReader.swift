import Foundation

/// Reads OTLP/JSON traces — an `ExportTraceServiceRequest` as the OpenTelemetry Collector's file
/// exporter writes it (one document, or one per line) and as OTLP/HTTP posts it — for what agents
/// did, by the GenAI semantic conventions: the tools they executed (`gen_ai.tool.name`), the hosts
/// they called (`server.address`, `url.full`), the models they used (`gen_ai.request.model`,
/// `gen_ai.response.model`) and, when content capture is on, what they were asked
/// (`gen_ai.input.messages`). A span without an agent of its own belongs to the nearest ancestor
/// in its trace that has one (`gen_ai.agent.name`, else `gen_ai.agent.id`).
public enum OTLPTraceReader {
    /// What an import keeps of a trace: the agent, what it did, and the start of its input text.
    public struct Trace: Sendable, Equatable {
        public var id: String
        public var agent: String
        public var calls: [Call]
        public var input: String
        public init(id: String, agent: String, calls: [Call], input: String) { (self.id, self.agent, self.calls, self.input) = (id, agent, calls, input) }
    }

    public struct Call: Sendable, Hashable {
        public var kind: ObservedKind
        public var target: String
        public var time: Date
        public init(kind: ObservedKind, target: String, time: Date) { (self.kind, self.target, self.time) = (kind, target, time) }
    }

    public struct Result: Sendable {
        public var traces: [Trace] = []
        public var spans = 0
        /// Spans or lines skipped, by kind, and the first few named.
        public var skipped: [String: Int] = [:]
        public var firstSkipped: [String] = []
    }

    /// Attribute values past this many bytes are not read (a captured prompt can be megabytes).
    public static let maximumValue = 64 << 10
    /// Input text kept per trace, for trigger mining.
    public static let maximumInput = 2048

    struct Span {
        var trace: String, id: String, parent: String
        var agent: String?, tool: String?, host: String?, model: String?, input: String?
        var time: Date
    }

    /// Reads `data` (named `file` in problems): one OTLP/JSON document or JSON lines of them.
    public static func read(_ data: Data, file: String) -> Result {
        var r = Result()
        var spans: [String: [Span]] = [:]
        func skip(_ kind: String, _ why: String) {
            r.skipped[kind, default: 0] += 1
            if r.firstSkipped.count < 5 { r.firstSkipped.append("\(file): \(why)") }
        }
        func take(_ resourceSpans: DocumentValue, at place: String) {
            guard case .object(let rs) = resourceSpans, case .array(let scopes)? = rs["scopeSpans"] ?? rs["instrumentationLibrarySpans"] else {
                skip("not-otlp", "\(place): a resourceSpans entry without scopeSpans")
                return
            }
            for case .object(let scope) in scopes {
                guard case .array(let list)? = scope["spans"] else { continue }
                for (i, value) in list.enumerated() {
                    r.spans += 1
                    switch span(value) {
                    case .success(let s): spans[s.trace, default: []].append(s)
                    case .failure(let problem): skip(problem.kind, "\(place), span \(i): \(problem.why)")
                    }
                }
            }
        }
        // One document (streamed by resourceSpans), or JSON lines.
        let head = data.prefix(4096)
        let isLines = data.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: true).count > 1
            && (try? JSONTreeParser.parse(Data(data.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: true)[0]), maximumDepth: 64)) != nil
        if isLines {
            var number = 0
            for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
                number += 1
                guard line.contains(where: { $0 > 0x20 }) else { continue }
                guard case .object(let doc)? = try? JSONTreeParser.parse(Data(line), maximumDepth: 64), case .array(let list)? = doc["resourceSpans"] else {
                    skip("not-otlp", "line \(number): not an OTLP/JSON ExportTraceServiceRequest (no resourceSpans)")
                    continue
                }
                for value in list { take(value, at: "line \(number)") }
            }
        } else {
            var sawSpans = false
            do {
                try JSONTreeParser.readSections(data, maximumDepth: 64, streamed: ["resourceSpans"], batch: { values, _, _ in
                    sawSpans = true
                    for value in values { take(value, at: "resourceSpans") }
                }, other: { _, _ in })
                if !sawSpans { skip("not-otlp", "no resourceSpans: not an OTLP/JSON ExportTraceServiceRequest") }
            } catch {
                skip("not-otlp", "not JSON (\(error.description))\(head.isEmpty ? "" : "")")
            }
        }
        r.traces = assemble(spans, skip: skip)
        return r
    }

    struct Problem: Error { var kind: String; var why: String }

    /// One span's ids, time and the attributes that say what it did.
    static func span(_ value: DocumentValue) -> Swift.Result<Span, Problem> {
        guard case .object(let s) = value else { return .failure(Problem(kind: "not-otlp", why: "not an object")) }
        guard case .string(let trace)? = s["traceId"], !trace.isEmpty, case .string(let id)? = s["spanId"], !id.isEmpty else {
            return .failure(Problem(kind: "missing-ids", why: "no traceId or spanId"))
        }
        var parent = ""
        if case .string(let p)? = s["parentSpanId"] { parent = p }
        guard let time = nanoseconds(s["startTimeUnixNano"]) else {
            return .failure(Problem(kind: "bad-timestamp", why: "startTimeUnixNano is not a time in nanoseconds since 1970 (1970–2100)"))
        }
        var a: [String: String] = [:]
        if case .array(let attributes)? = s["attributes"] {
            for case .object(let kv) in attributes {
                guard case .string(let key)? = kv["key"], wanted.contains(key), let text = attributeText(kv["value"]) else { continue }
                guard text.utf8.count <= maximumValue else { return .failure(Problem(kind: "oversized-attribute", why: "\(key) holds \(text.utf8.count) bytes, over \(maximumValue)")) }
                a[key] = text
            }
        }
        var host = a["server.address"]
        if host == nil, let url = a["url.full"] { host = URL(string: url)?.host }
        let tool = a["gen_ai.tool.name"] ?? (a["gen_ai.operation.name"] == "execute_tool" ? "?" : nil)
        return .success(Span(trace: trace, id: id, parent: parent, agent: a["gen_ai.agent.name"] ?? a["gen_ai.agent.id"], tool: tool,
                             host: host, model: a["gen_ai.response.model"] ?? a["gen_ai.request.model"], input: a["gen_ai.input.messages"].map(inputText),
                             time: time))
    }

    static let wanted: Set<String> = ["gen_ai.operation.name", "gen_ai.agent.name", "gen_ai.agent.id", "gen_ai.tool.name", "server.address",
                                      "url.full", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.input.messages"]

    /// An attribute's value as text: strings as they are, numbers written out, arrays of strings joined.
    static func attributeText(_ value: DocumentValue?) -> String? {
        guard case .object(let v)? = value else { return nil }
        if case .string(let s)? = v["stringValue"] { return s }
        if case .string(let s)? = v["intValue"] { return s }
        if case .int(let i)? = v["intValue"] { return String(i) }
        if case .object(let array)? = v["arrayValue"], case .array(let values)? = array["values"] {
            return values.compactMap { attributeText($0) }.joined(separator: "\n")
        }
        return nil
    }

    /// The text of captured input messages (a JSON list of `{role, parts: [{type: text, content}]}`
    /// or `{role, content}`), or the value as it is when it is not such a list.
    static func inputText(_ raw: String) -> String {
        guard case .array(let messages)? = try? JSONTreeParser.parse(Data(raw.utf8), maximumDepth: 16) else { return String(raw.prefix(maximumInput)) }
        var out: [String] = []
        for case .object(let m) in messages {
            if case .string("assistant")? = m["role"] { continue }
            if case .string(let c)? = m["content"] { out.append(c) }
            if case .array(let parts)? = m["parts"] { for case .object(let p) in parts { if case .string(let c)? = p["content"] { out.append(c) } } }
        }
        return String(out.joined(separator: "\n").prefix(maximumInput))
    }

    /// Nanoseconds since 1970 (a string, as OTLP/JSON writes 64-bit integers, or a number), within 1970–2100.
    static func nanoseconds(_ value: DocumentValue?) -> Date? {
        let n: Double?
        switch value {
        case .string(let s)?: n = Double(s)
        case .int(let i)?: n = Double(i)
        case .double(let d)?: n = d
        default: n = nil
        }
        guard let n, n > 0, n < 4_102_444_800e9 else { return nil }
        return Date(timeIntervalSince1970: (n / 1e9).rounded(.down))
    }

    /// Each trace's spans given their agent (their own, or the nearest ancestor's), then reduced to
    /// what the agents did. A span no agent can be found for is counted and left out.
    static func assemble(_ traces: [String: [Span]], skip: (String, String) -> Void) -> [Trace] {
        var out: [Trace] = []
        for id in traces.keys.sorted() {
            guard let spans = traces[id] else { continue }
            let byID = Dictionary(spans.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            func agent(of span: Span) -> String? {
                var s = span, hops = 0
                while s.agent == nil, hops < 64, let p = byID[s.parent] { s = p; hops += 1 }
                return s.agent
            }
            var perAgent: [String: (calls: Set<Call>, input: String)] = [:]
            for s in spans {
                guard let a = agent(of: s) else {
                    if s.tool != nil || s.host != nil || s.model != nil { skip("span-without-agent", "trace \(id), span \(s.id): no gen_ai.agent.name or id on it or its ancestors") }
                    continue
                }
                var entry = perAgent[a] ?? ([], "")
                if let t = s.tool { entry.calls.insert(Call(kind: .tool, target: t, time: s.time)) }
                if let h = s.host { entry.calls.insert(Call(kind: .host, target: RuntimeEnvelope.hostOnly(h), time: s.time)) }
                if let m = s.model { entry.calls.insert(Call(kind: .model, target: m, time: s.time)) }
                if let i = s.input, entry.input.utf8.count < maximumInput {
                    entry.input = String((entry.input.isEmpty ? i : entry.input + "\n" + i).prefix(maximumInput))
                }
                perAgent[a] = entry
            }
            for (a, entry) in perAgent.sorted(by: { $0.key < $1.key }) {
                out.append(Trace(id: id, agent: a, calls: entry.calls.sorted { ($0.kind.rawValue, $0.target, $0.time) < ($1.kind.rawValue, $1.target, $1.time) },
                                 input: entry.input))
            }
        }
        return out
    }
}

/// What an agent was seen calling.
public enum ObservedKind: String, Sendable, Codable, CaseIterable {
    case tool, host, model
}
