import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// Scores the whole estate and stores the run. `?as_of=` makes a what-if run: stored and
    /// citable by id, never the current run.
    func runScoring(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let asked = try QueryInput(request).moment("as_of")
        let run = try await ScoreRuns(db).run(
            asOf: asked ?? SleeperClock.now(), weights: try ScoreRuns.bundledWeights(),
            actor: caller.actor, whatIf: asked != nil)
        return .json(
            JSONValue.obj([
                ("run", .int(run.id)), ("what_if", .bool(run.whatIf)),
                ("as_of", .string(Timestamps.format(run.asOf))), ("weights_version", .string(run.weightsVersion)),
                ("credentials", .int(run.credentials)), ("duration_ms", .int(run.durationMs)),
                ("bands", .object(Band.allCases.map { ($0.rawValue, .int(run.bands[$0] ?? 0)) })),
            ]).pretty(), status: .created)
    }

    /// The run a request reads: `?run=ID` (a what-if run too), or the current run.
    func citedRun(_ q: QueryInput) async throws -> RunCitation {
        if let id = try q.int("run", in: 1...Int(Int64.max)) {
            guard let cited = try await ScoreRuns(db).citation(of: id) else { throw APIError.notFound("no scoring run \(id)") }
            return cited
        }
        guard let cited = try await ScoreRuns(db).latest() else {
            throw APIError(status: .notFound, code: "no_scoring_run", message: "no scoring run yet: POST /v1/scores or run `sleeper score`")
        }
        return cited
    }

    /// The latest run's credentials by score, filtered like `sleeper exposure`.
    func exposures(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let band = try q.oneOf("band", Band.self)
        let minScore = try q.int("min_score", in: 0...100)
        let run = try await citedRun(q)
        if let owner = try q.string("owner") { try await ReferenceLookup(db).requireOwner(owner) }
        if let resource = try q.string("resource") { try await ReferenceLookup(db).requireResource(resource) }
        let rows = try await ScoreRuns(db).exposures(
            run: run.id, top: limit + 1, band: band, minScore: minScore,
            owner: q.string("owner"), resource: q.string("resource"), offset: offset)
        let objects = ListingRenderer.jsonObjects(ExposureListing.exposures(Array(rows.prefix(limit))))
        return .page(objects, limit: limit, offset: offset, hasMore: rows.count > limit, run: run.jsonValue(now: SleeperClock.now()))
    }

    func diff(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        guard let since = try q.string("since") else { throw APIError.invalid("query parameter since is required (a run id or a date)", [("query: since", "required")]) }
        let runs = ScoreRuns(db)
        let latest = try await citedRun(q)
        let old: Int
        do { old = try await runs.resolve(since, since: true) } catch StoreError.invalidInput(let m) { throw APIError.invalid("query parameter since: \(m)", [("query: since", m)]) }
        let rows = try await runs.diff(from: old, to: latest.id)
        return .page(of: ListingRenderer.jsonObjects(ExposureListing.diff(rows)), limit: limit, offset: offset, run: latest.jsonValue(now: SleeperClock.now()))
    }

    /// `explain` as JSON: a credential's factors, paths and what-if; a model's or agent's blast radius.
    func explain(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let text = context.parameters.get("subject") ?? ""
        guard let subject = Subject(text.removingPercentEncoding ?? text) else {
            throw APIError.invalid("'\(text)' is not credential:KEY, model:KEY or agent:KEY", [("path: subject", "not KIND:KEY")])
        }
        let asOf = try QueryInput(request).moment("as_of") ?? SleeperClock.now()
        do {
            return .json(try await Explainer(db).explain(subject, asOf: asOf).json())
        } catch StoreError.invalidInput(let m) where m.hasPrefix("unknown") {
            throw APIError.notFound(m)
        }
    }
}
