import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// A JSON or YAML body as fields, or the problem that says why it is not one.
    func fields(_ request: Request, what: String) async throws -> (DocumentCursor, ProblemCollector, Data) {
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send \(what)") }
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: "body") } catch { throw APIError.problems(InventoryProblems([error])) }
        let c = ProblemCollector(file: "body")
        let cursor = DocumentCursor(value: root, path: "")
        guard c.object(cursor) else { throw APIError.problems(InventoryProblems(c.problems)) }
        return (cursor, c, data)
    }

    func subjectField(_ cursor: DocumentCursor, _ c: ProblemCollector) -> Subject? {
        guard let text = c.string(cursor, required: true) else { return nil }
        guard let subject = Subject(text) else { c.report(cursor.path, "'\(text)' is not KIND:KEY"); return nil }
        return subject
    }

    /// `{subject, reason, by?, dry_run?}`: `sleeper recall` over HTTP.
    func recall(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let (body, c, data) = try await fields(request, what: "{subject, reason, by, dry_run}")
        let subject = subjectField(body["subject"], c)
        let reason = c.string(body["reason"], required: true)
        let dryRun = c.bool(body["dry_run"]) ?? false
        let by = c.string(body["by"]) ?? caller.name
        guard let subject, let reason, c.problems.isEmpty else { throw APIError.problems(InventoryProblems(c.problems)) }
        return try await idempotent(request, body: data, caller: caller) {
            let outcome = try await ScoredChanges(db).recall(subject, reason: reason, by: by, dryRun: dryRun, actor: caller.actor)
            var members: [(String, JSONValue?)] = [
                ("recall", outcome.recall.map(JSONValue.int)), ("dry_run", .bool(dryRun)),
                ("summary", .string(ActionListing.summary(outcome.plan))),
                ("resources", .array(outcome.resources.map(JSONValue.string))),
                (
                    "plan",
                    .array(
                        outcome.plan.enumerated().map { i, a in
                            JSONValue.obj([
                                ("rank", .int(i + 1)), ("subject", .string(a.subject.description)), ("action", .string(a.action.rawValue)),
                                ("owner", a.owner.map(JSONValue.string) ?? .null), ("band", .string(a.band.rawValue)),
                                ("score", a.score.map(JSONValue.int) ?? .null), ("due", .string(Timestamps.formatDay(a.due))),
                            ])
                        })
                ),
            ]
            if let rescore = outcome.rescore { members.append(("rescore", rescoreJSON(rescore))) }
            return (dryRun ? .ok : .created, JSONValue.obj(members).pretty())
        }
    }

    /// `{subject, reason, by?}`: `sleeper release` over HTTP.
    func release(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let (body, c, data) = try await fields(request, what: "{subject, reason, by}")
        let subject = subjectField(body["subject"], c)
        let reason = c.string(body["reason"], required: true)
        let by = c.string(body["by"]) ?? caller.name
        guard let subject, let reason, c.problems.isEmpty else { throw APIError.problems(InventoryProblems(c.problems)) }
        return try await idempotent(request, body: data, caller: caller) {
            let (id, rescore) = try await ScoredChanges(db).release(subject, reason: reason, by: by, actor: caller.actor)
            return (.ok, JSONValue.obj([("released", .int(id)), ("subject", .string(subject.description)), ("rescore", rescoreJSON(rescore))]).pretty())
        }
    }

    /// The actions as they stand: `sleeper actions` over HTTP.
    func actions(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let asOf = try q.moment("as_of") ?? SleeperClock.now()
        let status = try q.oneOf("status", ActionStatus.allCases.map(\.rawValue)).flatMap(ActionStatus.init(rawValue:))
        let filter = RemediationActions.Filter(
            owner: try q.string("owner"), overdue: try q.oneOf("overdue", ["true", "false"]) == "true",
            status: status, recall: try q.int("recall", in: 1...Int(Int32.max)))
        let actions = try await RemediationActions(db).list(asOf: asOf, filter: filter)
        return .page(of: ListingRenderer.jsonObjects(ActionListing.actions(actions, asOf: asOf)), limit: limit, offset: offset)
    }

    /// `sleeper actions start` over HTTP: `{by?}` (default: the token's name).
    func startAction(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        guard let id = context.parameters.get("id").flatMap({ Int($0) }), id > 0 else { throw APIError.invalid("the action id must be a positive number") }
        let data = try await request.data(limit: limits.maxBodyBytes)
        var by = caller.name
        if !data.isEmpty {
            let root: DocumentValue
            do { root = try DocumentLoader.load(data, file: "body") } catch { throw APIError.problems(InventoryProblems([error])) }
            let c = ProblemCollector(file: "body")
            by = c.string(DocumentCursor(value: root, path: "")["by"]) ?? by
            if !c.problems.isEmpty { throw APIError.problems(InventoryProblems(c.problems)) }
        }
        try await RemediationActions(db).start(id, by: by, actor: caller.actor)
        return .json(JSONValue.obj([("id", .int(id)), ("status", .string(ActionStatus.inProgress.rawValue)), ("by", .string(by))]).pretty())
    }

    /// `{subject, control | action, until, by, reason}`: `sleeper accept` over HTTP.
    func accept(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let (body, c, data) = try await fields(request, what: "{subject, control or action, until, by, reason}")
        let subject = subjectField(body["subject"], c)
        let control = c.string(body["control"]), action = c.integer(body["action"], range: 1...Int.max)
        let until = c.date(body["until"])
        if body["until"].isMissing { c.report("until", "is required") }
        let by = c.string(body["by"], required: true), reason = c.string(body["reason"], required: true)
        if (control == nil) == (action == nil) { c.report("", "give control or action (one of them)") }
        guard let subject, let until, let by, let reason, c.problems.isEmpty else { throw APIError.problems(InventoryProblems(c.problems)) }
        let target: RiskAcceptances.Target = control.map { .control($0) } ?? .action(action ?? 0)
        return try await idempotent(request, body: data, caller: caller) {
            let a = try await RiskAcceptances(db).accept(
                subject, target, until: until, by: by, reason: reason,
                policy: try ScoredChanges.bundledRemediationPolicy(), asOf: SleeperClock.now(), actor: caller.actor)
            return (
                .created,
                JSONValue.obj([
                    ("id", .int(a.id)), ("subject", .string(a.subject.description)), ("accepted", .string(a.target)),
                    ("band", .string(a.band.rawValue)), ("until", .string(Timestamps.format(a.until))), ("by", .string(a.by)),
                ]).pretty()
            )
        }
    }
}
