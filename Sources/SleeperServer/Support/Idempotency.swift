import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// Runs a write once per `Idempotency-Key`: a retry of the same request gets the first answer
    /// back (with `Idempotent-Replayed: true`), a different request with a used key is refused
    /// (422), and one that arrives while the first still runs is told to wait (409). Without the
    /// header the write simply runs.
    func idempotent(
        _ request: Request, body: Data, caller: Caller,
        _ work: () async throws -> (status: HTTPResponse.Status, json: String)
    ) async throws -> Response {
        guard let given = request.headers[HTTPField.Name("Idempotency-Key")!] else {
            let (status, json) = try await work()
            return .json(json, status: status)
        }
        guard (1...255).contains(given.utf8.count), given.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }) else {
            throw APIError.invalid("header Idempotency-Key: 1 to 255 visible ASCII characters", [("header: Idempotency-Key", "1 to 255 visible ASCII characters")])
        }
        // The key is kept as its hash and never repeated: a client may use anything as a key,
        // a secret pasted by mistake included, and the key only has to be recognised again.
        let key = "sha256:" + SHA256.hash(data: Data(given.utf8)).hexEncoded
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        hasher.update(data: body)
        let fingerprint = hasher.finalize().hexEncoded
        let keys = IdempotencyKeys(db)
        switch try await keys.claim(actor: caller.actor, key: key, requestSHA256: fingerprint, pendingSeconds: limits.idempotencyPendingSeconds) {
        case .replay(let status, let response):
            var replay = Response.json(response, status: HTTPResponse.Status(code: status))
            replay.headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
            return replay
        case .mismatch:
            throw APIError(
                status: .unprocessableContent, code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used for a different request")
        case .inProgress:
            throw APIError(
                status: .conflict, code: "idempotency_key_in_progress",
                message: "a request with this Idempotency-Key is still being processed; retry later (after \(limits.idempotencyPendingSeconds) s it is settled from what its write did)")
        case .claimed:
            let answer: (status: HTTPResponse.Status, json: String)
            do { answer = try await IdempotencyKeys.$current.withValue(.init(actor: caller.actor, key: key)) { try await work() } } catch {
                // Refused or failed before committing: the key is free for a corrected retry.
                try? await keys.release(actor: caller.actor, key: key)
                throw error
            }
            // The write is committed; should remembering its answer fail, the key stays claimed
            // (a retry gets 409), which is safer than letting it write twice.
            try? await keys.complete(actor: caller.actor, key: key, status: Int(answer.status.code), response: answer.json)
            return .json(answer.json, status: answer.status)
        }
    }
}
