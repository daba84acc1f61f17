import Dispatch
import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

#if canImport(Glibc)
    import Glibc
#endif

extension Handlers {
    /// `sleeper scan model|dataset` over HTTP: the file is the body (`name` names it), or a path
    /// under a directory the administrator allowed (`serve --scan-root`). With `subject` the
    /// result is recorded as evidence, exactly as the command line records it.
    func scan(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let q = QueryInput(request)
        guard let kind = try q.oneOf("kind", ["model", "dataset"]) else { throw APIError.invalid("kind: is required (model or dataset)") }
        let subject = try q.subject("subject")
        if let subject, subject.kind.rawValue != kind {
            throw APIError.invalid("subject: a \(kind) scan is evidence of a \(kind) (\(kind):KEY), not a \(subject.kind.rawValue)")
        }
        let stale = try q.oneOf("record_stale", ["true", "false"]) == "true"
        let data = try await request.data(limit: limits.maxBodyBytes)
        let path = try q.string("path")
        let name = try q.string("name") ?? (kind == "model" ? "model" : "dataset.jsonl")
        if let path {
            guard data.isEmpty else { throw APIError.invalid("path: give the file as the body or a path on the server, not both") }
            try allowedPath(path)
        } else {
            guard !data.isEmpty else { throw APIError.invalid("the body is empty: send the file to scan, or give path= (a file under a --scan-root)") }
            guard !name.contains("/"), name != "..", name.utf8.count <= 255 else { throw APIError.invalid("name: a file name, without '/'") }
        }
        let rules = reportRules, now = SleeperClock.now(), roots = scanRoots
        // The scan stops at the deadline, or as soon as the client goes away: no one would read it.
        let budget = ScanBudget(seconds: limits.scanSeconds)
        func scanned() async throws -> Response {
            return try await idempotent(request, body: data, caller: caller) {
                if kind == "model" {
                    let report = try await Self.offThreads {
                        try ScanBudget.with(budget) {
                            try path.map { try ModelScanning.scan($0, at: now, within: roots) } ?? ModelScanning.scan(data, name: name, at: now)
                        }
                    }
                    let json = report.json()
                    let judged = try report.judged(by: rules)
                    guard let subject else { return (.ok, Self.answer(report: json, result: judged.result)) }
                    let ingested = try await ScoredChanges(db).recordModelScan(
                        report, subject: subject, rules: rules, recordStale: stale,
                        by: q.string("by") ?? caller.name, actor: caller.actor, asOf: now)
                    return (.created, Self.answer(report: json, result: judged.result, recorded: ingested.records.map(recordJSON), rescore: rescoreJSON(ingested.rescore)))
                }
                let report = try await Self.offThreads {
                    try ScanBudget.with(budget) {
                        try path.map { try DatasetScanning.scan([$0], thresholds: rules.datasetScan, at: now, within: roots) }
                            ?? DatasetScanning.scan(data, name: name, thresholds: rules.datasetScan, at: now)
                    }
                }
                let json = report.json()
                guard let subject else { return (.ok, Self.answer(report: json, result: report.result)) }
                let recorded = try await ScoredChanges(db).recordDatasetScan(
                    report, subject: subject, control: rules.datasetScan.control,
                    by: q.string("by") ?? caller.name, actor: caller.actor, asOf: now)
                return (
                    .created,
                    Self.answer(
                        report: json, result: report.result, recorded: recorded.records.map(recordJSON), rescore: rescoreJSON(recorded.rescore),
                        notPropagated: recorded.notPropagated)
                )
            }
        }
        // A stopped scan is logged (it cost the server its deadline, or its client left).
        do { return try await ClientGone.watching(context.channel, gone: { budget.stop("the client went away") }) { try await scanned() } } catch let error as StoreError {
            if case .scanStopped = error { context.logger.warning("\(error) (POST /v1/scans, \(kind) \(path ?? name))") }
            throw error
        }
    }

    /// A path the server may read: inside one of the allowed directories once links are resolved.
    func allowedPath(_ path: String) throws {
        guard !scanRoots.isEmpty else {
            throw APIError.pathNotAllowed("path: this server reads no files by path (start it with --scan-root DIR to allow a directory); send the file as the body")
        }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard scanRoots.contains(where: { resolved == $0 || resolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw APIError.pathNotAllowed("path: '\(path)' is not under a directory this server may scan")
        }
    }

    /// The scan's own report, whole, with what was recorded of it.
    static func answer(
        report: Data, result: EvidenceResult, recorded: [JSONValue]? = nil, rescore: JSONValue? = nil,
        notPropagated: [(model: String, why: String)] = []
    ) -> String {
        var members: [(String, JSONValue?)] = [("result", .string(result.rawValue))]
        if let recorded { members.append(("recorded", .array(recorded))) }
        if let rescore { members.append(("rescore", rescore)) }
        if !notPropagated.isEmpty {
            members.append(("not_recorded_on", .array(notPropagated.map { JSONValue.obj([("model", .string($0.model)), ("why", .string($0.why))]) })))
        }
        // The report is inserted as Sleeper wrote it (its bytes are the evidence's artifact).
        var head = JSONValue.obj(members).pretty().trimmingCharacters(in: .whitespacesAndNewlines)
        if head.hasSuffix("}") { head.removeLast() }
        let body = String(decoding: report, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return head.trimmingCharacters(in: .whitespacesAndNewlines) + ",\n  \"report\": " + body.replacingOccurrences(of: "\n", with: "\n  ") + "\n}\n"
    }

    /// Scans read and compute for seconds: run them on Dispatch's threads, not the server's.
    /// glibc's `malloc_trim`, looked up at run time (its header is not in the Glibc module).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func trimHeap() { _ = mallocTrim?(0) }

    static func offThreads<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let result = Result { try work() }
                // A scan's memory is given back to the system when it ends, not kept by the
                // allocator (the server once stayed at 0.7–1.4 GB after a few hostile files).
                Self.trimHeap()
                continuation.resume(with: result)
            }
        }
    }
}
