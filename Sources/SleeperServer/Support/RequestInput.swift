import Foundation
import Hummingbird
import NIOCore
import SleeperCore

/// Query parameters, checked: a bad value is a 400 naming the parameter.
struct QueryInput {
    let params: Parameters
    init(_ request: Request) { params = request.uri.queryParameters }

    /// A parameter's text; one that looks like secret material is refused here, for every
    /// parameter of every route, and never repeated.
    func string(_ name: String) throws -> String? {
        guard let text = params.get(name), !text.isEmpty else { return nil }
        if let kind = SecretScanner.secretKind(of: text, field: name) {
            throw APIError.invalid(
                "query parameter \(name) looks like secret material (\(kind)); the value is not shown and nothing was written",
                [("query: \(name)", "looks like secret material")])
        }
        return text
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw APIError.invalid(
                "query parameter \(name): '\(text)' is not an integer in \(range.lowerBound)…\(range.upperBound)",
                [("query: \(name)", "expected an integer in \(range.lowerBound)…\(range.upperBound)")])
        }
        return v
    }

    func date(_ name: String) throws -> Date? {
        guard let text = try string(name) else { return nil }
        guard let d = Timestamps.parse(text) else {
            throw APIError.invalid("query parameter \(name): '\(text)' is not a date (YYYY-MM-DD, the start of that day UTC, or ISO 8601)", [("query: \(name)", "not a date")])
        }
        return d
    }

    /// An "as of" time: a day alone is the end of that day, UTC.
    func moment(_ name: String) throws -> Date? {
        guard let text = try string(name) else { return nil }
        guard let d = Timestamps.moment(text) else {
            throw APIError.invalid("query parameter \(name): '\(text)' is not a date (YYYY-MM-DD, the end of that day UTC, or ISO 8601)", [("query: \(name)", "not a date")])
        }
        return d
    }

    /// `basis=recorded|effective`, recorded by default.
    func basis() throws -> EvidenceBasis {
        try oneOf("basis", EvidenceBasis.allCases.map(\.rawValue)).flatMap(EvidenceBasis.init) ?? .recorded
    }

    func subject(_ name: String) throws -> Subject? {
        guard let text = try string(name) else { return nil }
        guard let s = Subject(text) else { throw APIError.invalid("query parameter \(name): '\(text)' is not KIND:KEY", [("query: \(name)", "not KIND:KEY")]) }
        return s
    }

    /// A closed set's value by its name.
    func oneOf<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E? where E.RawValue == String {
        try oneOf(name, type.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let text = try string(name) else { return nil }
        guard allowed.contains(text) else {
            throw APIError.invalid("query parameter \(name): '\(text)' is not one of \(allowed.joined(separator: ", "))", [("query: \(name)", "one of \(allowed.joined(separator: ", "))")])
        }
        return text
    }

    /// `limit` (1…max, default 100) and `offset` (default 0).
    func page(max: Int) throws -> (limit: Int, offset: Int) {
        (try int("limit", in: 1...max) ?? min(100, max), try int("offset", in: 0...Int(Int32.max)) ?? 0)
    }
}

extension Response {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page of a list: `{"items": [...], "limit": L, "offset": O, "next_offset": N or null}`, and
    /// `"run": {...}` when the list comes from a scoring run (which run, as of when, how old).
    static func page(_ objects: [String], limit: Int, offset: Int, hasMore: Bool, run: JSONValue? = nil) -> Response {
        let items = objects.isEmpty ? "[]" : "[\n  " + objects.joined(separator: ",\n  ") + "\n]"
        let cited = run.map { ",\n \"run\": \($0.pretty(indent: 0))" } ?? ""
        return json("{\"items\": \(items),\n \"limit\": \(limit), \"offset\": \(offset), \"next_offset\": \(hasMore ? String(offset + limit) : "null")\(cited)}\n")
    }

    /// A page cut from a complete list held in memory.
    static func page(of objects: [String], limit: Int, offset: Int, run: JSONValue? = nil) -> Response {
        let slice = offset >= objects.count ? [] : Array(objects[offset..<min(objects.count, offset + limit)])
        return page(slice, limit: limit, offset: offset, hasMore: offset + limit < objects.count, run: run)
    }
}

extension Request {
    /// The body, up to `limit` bytes; beyond that a 413.
    func data(limit: Int) async throws -> Data {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, code: "body_too_large", message: "the request body is larger than \(limit) bytes (see `sleeper serve --max-body-mb`)")
        }
    }
}
