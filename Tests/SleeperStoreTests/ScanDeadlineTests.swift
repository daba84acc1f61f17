import Foundation
import SleeperCore
import SleeperStore
import Testing

/// A scan over HTTP ends: at the server's deadline (`--scan-seconds`), or when its client goes
/// away; a stopped scan says so and records nothing.
@Suite("Scans stop at their deadline or when the client leaves", .timeLimit(.minutes(8)))
struct ScanDeadlineTests {
    /// A pickle of 40 million MEMOIZE opcodes: valid, harmless, and seconds of walking.
    static let slowPickle = Data([0x80, 0x04, 0x4E] + [UInt8](repeating: 0x94, count: 40_000_000) + [0x2E])
    static let slowerPickle = Data([0x80, 0x04, 0x4E] + [UInt8](repeating: 0x94, count: 49_000_000) + [0x2E])

    @Test("past --scan-seconds the scan stops with 422 scan_stopped and nothing is recorded; a client that leaves stops its scan")
    func stops() async throws {
        // As processes: a scan that holds a core for minutes is timed by its own process, not by the runner's shared threads.
        try await ServerTests.withServer(extra: ["--scan-seconds", "1"], asProcess: true) { server, tokens, db in
            let before = try await db.count("SELECT count(*) FROM evidence")
            let started = Date()
            let reply = try await server.call(
                "POST", "/v1/scans?kind=model&name=data.pkl&subject=model:acme-support-ft", token: tokens.editor,
                body: Self.slowPickle, contentType: "application/octet-stream")
            let took = Date().timeIntervalSince(started)
            print("a 40 MB pickle with a 1 s scan deadline answered \(reply.status) in \(took) s")
            #expect(reply.status == 422, "\(reply.status) \(reply.body.prefix(300))")
            #expect(reply.body.contains("scan_stopped") && reply.body.contains("deadline of 1 s") && reply.body.contains("nothing was recorded"), "\(reply.body.prefix(400))")
            #expect(try await db.count("SELECT count(*) FROM evidence") == before)
            #expect(server.log.contains("the scan stopped before it ended"), "\(server.log)")
        }
        try await ServerTests.withServer(extra: ["--scan-seconds", "600"], asProcess: true) { server, tokens, _ in
            // The client gives up after three seconds: time to send the 49 MB on a busy machine (with one
            // second it was still sending, so no scan had begun), well before the scan's end (6.5 s in a
            // debug build on an idle machine); the server stops the scan instead of finishing it.
            await #expect(throws: (any Error).self) {
                _ = try await server.call(
                    "POST", "/v1/scans?kind=model&name=data.pkl", token: tokens.editor,
                    body: Self.slowerPickle, contentType: "application/octet-stream", seconds: 3)
            }
            let deadline = Date().addingTimeInterval(120)
            while !server.log.contains("the client went away"), Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
            #expect(server.log.contains("the client went away"), "\(server.log)")
        }
    }
}
