import Foundation
import SleeperCore

/// What the OpenAPI document allows each operation: its query parameters and the media types of
/// its body. Read from the document itself, so that the contract and the checks cannot drift:
/// an unknown query parameter (a typo like `?owner=` for `?owners=`) or a body of another type is
/// refused instead of ignored.
struct APIContract: Sendable {
    struct Operation: Sendable {
        var query: Set<String> = []
        /// Empty: the operation takes no body.
        var mediaTypes: Set<String> = []
    }

    /// By `METHOD /path/{param}` as the document writes them.
    let operations: [String: Operation]

    init(yaml: String) {
        var operations: [String: Operation] = [:]
        guard let root = try? DocumentLoader.load(Data(yaml.utf8), file: "openapi.yaml"), case .object(let doc) = root,
            case .object(let paths)? = doc["paths"]
        else { self.operations = [:]; return }
        var shared: [String: DocumentValue] = [:]
        if case .object(let components)? = doc["components"], case .object(let parameters)? = components["parameters"] { shared = parameters }
        func queryNames(_ list: DocumentValue?) -> [String] {
            guard case .array(let items)? = list else { return [] }
            return items.compactMap { item -> String? in
                guard case .object(var p) = item else { return nil }
                if case .string(let ref)? = p["$ref"], case .object(let target)? = shared[String(ref.split(separator: "/").last ?? "")] { p = target }
                guard case .string("query")? = p["in"], case .string(let name)? = p["name"] else { return nil }
                return name
            }
        }
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            let common = queryNames(methods["parameters"])
            for (method, value) in methods where ["get", "post", "put", "patch", "delete"].contains(method) {
                guard case .object(let op) = value else { continue }
                var operation = Operation(query: Set(common + queryNames(op["parameters"])))
                if case .object(let body)? = op["requestBody"], case .object(let content)? = body["content"] {
                    operation.mediaTypes = Set(content.keys)
                }
                operations["\(method.uppercased()) \(path)"] = operation
            }
        }
        self.operations = operations
    }

    /// A located 400 for an unknown query parameter, a 415 for a body of a type the operation
    /// does not take; nil when the request fits.
    func refusal(method: String, path: String, query: [String], contentType: String?, hasBody: Bool) -> APIError? {
        guard let operation = operations["\(method) \(path)"] else { return nil }
        if let unknown = query.filter({ !operation.query.contains($0) }).sorted().first {
            let known = operation.query.sorted()
            return APIError.invalid(
                "unknown query parameter '\(unknown)'" + (known.isEmpty ? "; this operation takes none" : " (known: \(known.joined(separator: ", ")))"),
                [("query: \(unknown)", "not a parameter of \(method) \(path)")])
        }
        guard hasBody else { return nil }
        guard !operation.mediaTypes.isEmpty else {
            return APIError.invalid("\(method) \(path) takes no body", [("body", "not expected")])
        }
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        // YAML goes by several names; the document lists application/yaml.
        let yamlNames: Set<String> = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]
        let accepted = operation.mediaTypes.contains(type) || (yamlNames.contains(type) && operation.mediaTypes.contains("application/yaml"))
        guard accepted else {
            return APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "Content-Type '\(type.isEmpty ? "(none)" : type)' is not accepted here; send \(operation.mediaTypes.sorted().joined(separator: " or "))",
                details: [(location: "header: Content-Type", message: "one of \(operation.mediaTypes.sorted().joined(separator: ", "))")])
        }
        return nil
    }
}
