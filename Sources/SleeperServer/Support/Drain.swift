import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The responses in flight, so that a stopping server knows whether it let every one finish.
/// A response counts as finished when its last byte was handed to the socket, not when its
/// handler returned: a large export is still being written long after that.
final class Drain: Sendable {
    struct State {
        var inFlight = 0
        var cutOff = 0
        /// Connections whose close waits for their bytes to be written.
        var held = 0
        /// Connections open, so that a stopped server can wait for their last word.
        var connections = 0
        var stoppingSince: ContinuousClock.Instant?
    }
    let state = NIOLockedValueBox(State())
    /// The longest the server waits for responses in flight after SIGTERM or SIGINT.
    let limit: Duration

    init(limit: Duration) { self.limit = limit }

    func begin() { state.withLockedValue { $0.inFlight += 1 } }

    func end() { state.withLockedValue { $0.inFlight -= 1 } }

    /// A connection was closed with bytes of its response still unwritten.
    func cutOff() { state.withLockedValue { $0.cutOff += 1 } }

    func hold() { state.withLockedValue { $0.held += 1 } }
    func connected() { state.withLockedValue { $0.connections += 1 } }
    func disconnected() { state.withLockedValue { $0.connections -= 1 } }
    func release() { state.withLockedValue { $0.held -= 1 } }

    /// Marks the start of the drain; returns how many responses were in flight.
    func stopping() -> Int {
        state.withLockedValue { s in
            if s.stoppingSince == nil { s.stoppingSince = .now }
            return s.inFlight
        }
    }

    var snapshot: State { state.withLockedValue { $0 } }

    /// How long a close may still be held: until `limit` after the stop signal (or after now,
    /// for a connection closed while the server runs on).
    func remaining() -> Duration {
        let since = state.withLockedValue { $0.stoppingSince } ?? .now
        return max(.zero, since + limit - .now)
    }
}

/// Counts every response from the request's arrival until its body has been handed to the
/// connection (which `DeliverBeforeClose` then holds open until the bytes are written).
struct DrainMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let drain: Drain

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        drain.begin()
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // An error becomes a small response written by the server itself.
            drain.end()
            throw error
        }
        let (body, drain) = (response.body, self.drain)
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { drain.end() }
            try await body.write(writer)
        }
        return response
    }
}

/// Notices the start of a graceful shutdown and says in the log what is being waited for. Listed
/// last in the service group, so that it is told first.
struct DrainWatch: Service {
    let drain: Drain
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let inFlight = drain.stopping()
        logger.notice("stopping: no new connections; waiting for \(inFlight) response(s) in flight, at most \(drain.limit)")
    }

    /// Past the drain's limit the service group cancels the handlers, but work that never checks
    /// for cancellation (a CPU-bound scan or trace read) kept the process alive 35 s after SIGTERM
    /// with a 30 s limit. A thread of its own — the cooperative pool may be taken by that very
    /// work — ends the process this long after the limit, saying what was cut off.
    static let hardStopGrace: Duration = .seconds(3)

    private static let armed = NIOLockedValueBox(false)

    /// Arms the hard stop once (the first signal counts).
    static func hardStop(after: Duration, drain: Drain, logger: Logger) {
        guard
            armed.withLockedValue({ was in
                defer { was = true }; return !was
            })
        else { return }
        let seconds = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            let left = drain.snapshot
            logger.error("stopped \(after) after the signal with \(max(left.inFlight, left.held)) response(s) still in flight: cut off (work that does not stop by itself is ended with the process)")
            exit(1)
        }
        thread.start()
    }
}

/// The server stopped before every response in flight was delivered.
public struct DrainExceeded: Error, CustomStringConvertible {
    public var cutOff: Int
    public var limit: Duration
    public var description: String {
        "stopped after waiting \(limit) for responses in flight: \(cutOff) response(s) were cut off (raise --drain-seconds to wait longer)"
    }
}

/// Holds a connection's close back until the bytes already written on it have reached the
/// socket. Hummingbird closes a connection as soon as the last part of its response is queued
/// when the server is stopping, and NIO drops whatever is still queued on close: a large export
/// was cut off at a few megabytes. Placed between the HTTP codec and Hummingbird's connection
/// handler, this sees every response part and every close; past the drain's limit it closes anyway and
/// counts the response as cut off.
final class DeliverBeforeClose: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    typealias OutboundIn = Any
    let drain: Drain
    private var unwritten = 0
    private var heldClose: EventLoopPromise<Void>?
    /// Bytes of a response that never reached the socket while the server was stopping, by
    /// whatever path the connection closed (the drain limit, the server's cancellation, the peer).
    private var lostWhileStopping = false
    private var counted = false

    init(drain: Drain) { self.drain = drain }

    func handlerAdded(context: ChannelHandlerContext) { drain.connected() }
    func handlerRemoved(context: ChannelHandlerContext) { drain.disconnected() }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        unwritten += 1
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenComplete { result in
            self.unwritten -= 1
            if case .failure = result, self.drain.snapshot.stoppingSince != nil { self.lostWhileStopping = true }
            if self.unwritten == 0, let held = self.heldClose {
                self.heldClose = nil
                self.drain.release()
                context.close(mode: .all, promise: held)
            }
        }
        context.write(data, promise: written)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if lostWhileStopping { countCut() }
        context.fireChannelInactive()
    }

    private func countCut() {
        guard !counted else { return }
        counted = true
        drain.cutOff()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, unwritten > 0 else { return context.close(mode: mode, promise: promise) }
        if let held = heldClose {
            promise.map { held.futureResult.cascade(to: $0) }
            return
        }
        let held = context.eventLoop.makePromise(of: Void.self)
        promise.map { held.futureResult.cascade(to: $0) }
        heldClose = held
        drain.hold()
        context.flush()
        let remaining = drain.remaining().components
        let wait = TimeAmount.nanoseconds(remaining.seconds * 1_000_000_000 + remaining.attoseconds / 1_000_000_000)
        context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            guard let held = self.heldClose else { return }
            self.heldClose = nil
            self.drain.release()
            self.countCut()
            context.close(mode: .all, promise: held)
        }
    }
}
