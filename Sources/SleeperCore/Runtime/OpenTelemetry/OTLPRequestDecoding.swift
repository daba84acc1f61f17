import Foundation

/// Reads the bytes of an `ExportTraceServiceRequest` span by span, straight into `Span` values:
/// `resourceSpans[].scopeSpans[].spans[]` (`instrumentationLibrarySpans` from older exporters),
/// each span's ids, start time and the attributes Sleeper reads; every other field is stepped
/// over without being built. A million spans read as JSON trees spent most of an import
/// allocating and freeing dictionaries (42 % of the samples). The JSON is as strictly checked
/// as a tree's.
extension OTLPTraceReader {
    typealias SyntaxError = JSONTreeParser.SyntaxError

    /// The attributes a span is read for.
    enum Attribute: Int, CaseIterable {
        case operation, agentName, agentID, toolName, serverAddress, urlFull, requestModel, responseModel, inputMessages

        var key: StaticString {
            switch self {
            case .operation: "gen_ai.operation.name"
            case .agentName: "gen_ai.agent.name"
            case .agentID: "gen_ai.agent.id"
            case .toolName: "gen_ai.tool.name"
            case .serverAddress: "server.address"
            case .urlFull: "url.full"
            case .requestModel: "gen_ai.request.model"
            case .responseModel: "gen_ai.response.model"
            case .inputMessages: "gen_ai.input.messages"
            }
        }

        /// What is kept of a span and shown, so judged for secret material (input is redacted instead).
        var isShown: Bool { self != .operation && self != .inputMessages }

        static func named(_ name: JSONCursor.Name) -> Attribute? { allCases.first { name.is($0.key) } }
        static func named(_ text: String) -> Attribute? { allCases.first { $0.key.description == text } }
    }

    /// A span's fields as read, before they are judged.
    struct SpanFields {
        var trace: String?, id: String?, parent = ""
        var time: DocumentValue?
        var values: [String?] = Array(repeating: nil, count: Attribute.allCases.count)
        var problem: Problem?

        subscript(_ a: Attribute) -> String? {
            get { values[a.rawValue] }
            set { values[a.rawValue] = newValue }
        }
    }

    /// One request's spans into `part`. False when the document has no `resourceSpans` list.
    static func decodeRequest(_ c: inout JSONCursor, into part: inout Part, line: Int) throws(SyntaxError) -> Bool {
        var found = false
        guard try c.enterObject(depth: 0) else { return false }
        var names = JSONCursor.Names()
        repeat {
            let name = try c.name(&names)
            if name.is("resourceSpans"), c.peek() == UInt8(ascii: "[") {
                found = true
                if try c.enterArray(depth: 1) {
                    repeat { try decodeResourceSpans(&c, into: &part, line: line) } while try c.nextElement()
                }
            } else {
                try c.skipValue(depth: 1)
            }
        } while try c.nextField()
        return found
    }

    static func decodeResourceSpans(_ c: inout JSONCursor, into part: inout Part, line: Int) throws(SyntaxError) {
        guard c.peek() == UInt8(ascii: "{") else {
            try c.skipValue(depth: 2)
            part.skip("not-otlp", line: line, "a resourceSpans entry without scopeSpans")
            return
        }
        var scoped = false
        if try c.enterObject(depth: 2) {
            var names = JSONCursor.Names()
            repeat {
                let name = try c.name(&names)
                if name.is("scopeSpans") || name.is("instrumentationLibrarySpans"), c.peek() == UInt8(ascii: "["), !scoped {
                    scoped = true
                    if try c.enterArray(depth: 3) {
                        repeat { try decodeScopeSpans(&c, into: &part, line: line) } while try c.nextElement()
                    }
                } else {
                    try c.skipValue(depth: 3)
                }
            } while try c.nextField()
        }
        if !scoped { part.skip("not-otlp", line: line, "a resourceSpans entry without scopeSpans") }
    }

    static func decodeScopeSpans(_ c: inout JSONCursor, into part: inout Part, line: Int) throws(SyntaxError) {
        guard c.peek() == UInt8(ascii: "{") else { return try c.skipValue(depth: 4) }
        guard try c.enterObject(depth: 4) else { return }
        var names = JSONCursor.Names()
        repeat {
            let name = try c.name(&names)
            if name.is("spans"), c.peek() == UInt8(ascii: "[") {
                guard try c.enterArray(depth: 5) else { continue }
                var i = 0
                repeat {
                    part.spans += 1
                    let fields = try decodeSpan(&c)
                    switch judge(fields, judged: &part.judged) {
                    case .success(let s): part.keep(s)
                    case .failure(let problem): part.skip(problem.kind, line: line, "span \(i): \(problem.why)")
                    }
                    i += 1
                } while try c.nextElement()
            } else {
                try c.skipValue(depth: 5)
            }
        } while try c.nextField()
    }

    /// One span's ids, start time and wanted attributes; anything else is stepped over.
    static func decodeSpan(_ c: inout JSONCursor) throws(SyntaxError) -> SpanFields {
        var s = SpanFields()
        guard c.peek() == UInt8(ascii: "{") else {
            try c.skipValue(depth: 6)
            s.problem = Problem(kind: "not-otlp", why: "not an object")
            return s
        }
        guard try c.enterObject(depth: 6) else { return s }
        var names = JSONCursor.Names()
        repeat {
            let name = try c.name(&names)
            if name.is("traceId") || name.is("spanId") || name.is("parentSpanId") {
                guard c.peek() == UInt8(ascii: "\"") else { try c.skipValue(depth: 7); continue }
                let text = try c.string()
                if name.is("traceId") { s.trace = text } else if name.is("spanId") { s.id = text } else { s.parent = text }
            } else if name.is("startTimeUnixNano") {
                s.time = try c.value(depth: 7)
            } else if name.is("attributes"), c.peek() == UInt8(ascii: "[") {
                guard try c.enterArray(depth: 7) else { continue }
                repeat { try decodeAttribute(&c, into: &s) } while try c.nextElement()
            } else {
                try c.skipValue(depth: 7)
            }
        } while try c.nextField()
        return s
    }

    /// `{key, value: AnyValue}`: the value read only when the key is wanted (or not yet known).
    static func decodeAttribute(_ c: inout JSONCursor, into s: inout SpanFields) throws(SyntaxError) {
        guard c.peek() == UInt8(ascii: "{") else { return try c.skipValue(depth: 8) }
        guard try c.enterObject(depth: 8) else { return }
        var names = JSONCursor.Names()
        var key: String?, wanted: Attribute?, text: String?
        repeat {
            let name = try c.name(&names)
            if name.is("key"), c.peek() == UInt8(ascii: "\"") {
                let k = try c.string()
                key = k
                wanted = Attribute.named(k)
            } else if name.is("value"), key == nil || wanted != nil {
                text = attributeText(try c.value(depth: 9))
            } else {
                try c.skipValue(depth: 9)
            }
        } while try c.nextField()
        guard let wanted, let text, let key else { return }
        if text.utf8.count > maximumValue, s.problem == nil {
            s.problem = Problem(kind: "oversized-attribute", why: "\(key) holds \(text.utf8.count) bytes, over \(maximumValue)")
        }
        s[wanted] = text
    }

    /// A span as kept, or why it is not: no ids, no time, an oversized value, or secret material
    /// in what would be stored and shown (its agent, tool, host or model). Captured input is
    /// kept redacted. `judged`: verdicts on values seen before (a host or tool repeats on most spans).
    static func judge(_ f: SpanFields, judged: inout [String: String?]) -> Swift.Result<Span, Problem> {
        if let problem = f.problem, problem.kind == "not-otlp" { return .failure(problem) }
        guard let trace = f.trace, !trace.isEmpty, let id = f.id, !id.isEmpty else {
            return .failure(Problem(kind: "missing-ids", why: "no traceId or spanId"))
        }
        guard let time = nanoseconds(f.time) else {
            return .failure(Problem(kind: "bad-timestamp", why: "startTimeUnixNano is not a time in nanoseconds since 1970 (1970–2100)"))
        }
        if let problem = f.problem { return .failure(problem) }
        for a in Attribute.allCases where a.isShown {
            guard let text = f[a] else { continue }
            let verdict: String?
            if let known = judged[text] {
                verdict = known
            } else {
                verdict = SecretScanner.secretKind(of: text, field: "name")
                if judged.count < 1 << 16 { judged[text] = verdict }
            }
            if let kind = verdict {
                return .failure(Problem(kind: "secret-material", why: "\(a.key) looks like secret material (\(kind)); the value is not shown and the span was not kept"))
            }
        }
        var host = f[.serverAddress]
        if host == nil, let url = f[.urlFull] { host = URL(string: url)?.host }
        let tool = f[.toolName] ?? (f[.operation] == "execute_tool" ? "?" : nil)
        return .success(
            Span(
                trace: trace, id: id, parent: f.parent, agent: f[.agentName] ?? f[.agentID], tool: tool, host: host,
                model: f[.responseModel] ?? f[.requestModel], input: f[.inputMessages].map { inputText(SecretScanner.redacted($0)) },
                time: time))
    }
}
