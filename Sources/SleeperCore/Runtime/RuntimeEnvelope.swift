import Foundation

/// What an agent may do, by the inventory: the hosts of the resources its credentials are granted
/// (`resources[].endpoints`), its tools (`agents[].tools`) and its models (`uses_models`). What it
/// is seen doing outside of this is a finding.
public struct RuntimeEnvelope: Sendable, Equatable {
    public var agent: String
    /// Other names the agent is seen under in traces (its name as well as its key).
    public var aliases: [String]
    public var endpoints: [String]
    /// nil: the inventory does not declare the agent's tools, and its tool calls are not judged.
    public var tools: [String]?
    /// The models' keys and names.
    public var models: [String]

    public init(agent: String, aliases: [String] = [], endpoints: [String], tools: [String]?, models: [String]) {
        (self.agent, self.aliases, self.endpoints, self.tools, self.models) = (agent, aliases, endpoints, tools, models)
    }

    /// A host (`api.example.com`, `*.example.com`, an IP address, optionally with a port) or an
    /// http(s) URL prefix.
    public static func isEndpoint(_ text: String) -> Bool {
        if text.hasPrefix("https://") || text.hasPrefix("http://") { return URL(string: text)?.host?.isEmpty == false }
        let host = text.hasPrefix("*.") ? String(text.dropFirst(2)) : text
        return !host.isEmpty && host.utf8.count <= 253
            && host.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-.:[]".unicodeScalars.contains($0) }
    }

    /// The host of an endpoint, lower-cased, without a port.
    static func host(of endpoint: String) -> String {
        if endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://") { return URL(string: endpoint)?.host?.lowercased() ?? endpoint }
        return hostOnly(endpoint)
    }

    /// `host[:port]` without the port, lower-cased.
    static func hostOnly(_ text: String) -> String {
        let lower = text.lowercased()
        if lower.hasPrefix("[") { return String(lower.prefix { $0 != "]" }.dropFirst()) }
        if lower.filter({ $0 == ":" }).count == 1, let colon = lower.firstIndex(of: ":") { return String(lower[..<colon]) }
        return lower
    }

    /// Whether a call to `host` is one of the endpoints (exact, or under a `*.` wildcard). URL
    /// prefixes are matched by their host: traces name the host of every call, the path seldom.
    public func allows(host: String) -> Bool {
        let h = Self.hostOnly(host)
        return endpoints.contains { e in
            if e.hasPrefix("*.") { let suffix = String(e.dropFirst(1)).lowercased(); return h.hasSuffix(suffix) && h.count > suffix.count }
            return Self.host(of: e) == h
        }
    }

    public func allows(tool: String) -> Bool { tools.map { $0.contains(tool) } ?? true }

    public func allows(model: String) -> Bool { models.contains { $0.caseInsensitiveCompare(model) == .orderedSame } }
}
