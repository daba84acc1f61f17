import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SleeperCore
import SleeperStore

/// `sleeper serve`: the API over one shared pool, run under swift-service-lifecycle so that
/// SIGTERM or SIGINT stop accepting, let in-flight requests finish, and exit cleanly.
public enum SleeperService {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var limits: ServerLimits
        /// After SIGTERM or SIGINT, how long responses in flight may take to finish.
        public var drainLimit: Duration
        /// How testing tools' reports are judged (`POST /v1/evidence/ingest`); nil: the shipped rules.
        public var reportRules: ReportRules?
        /// Directories `POST /v1/scans` may read files from by path; empty: uploads only.
        public var scanRoots: [String] = []
        /// Where to send webhooks; nil: none are sent.
        public var webhooks: WebhookSettings?
        /// For a service run in process: what stops it as SIGTERM would. nil: signals only.
        public var shutdown: ServiceShutdown?
        public init(
            host: String = "127.0.0.1", port: Int = 8080, limits: ServerLimits = .init(), drainLimit: Duration = .seconds(30),
            reportRules: ReportRules? = nil
        ) {
            self.reportRules = reportRules
            self.host = host
            self.port = port
            self.limits = limits
            self.drainLimit = drainLimit
        }
    }

    /// The OpenAPI document, compiled into the binary from `Sources/SleeperServer/openapi.yaml`.
    public static var contract: String {
        EmbeddedResources.base64Files.first { $0.path.hasSuffix("openapi.yaml") }
            .flatMap { Data(base64Encoded: $0.base64) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Runs until a shutdown signal, then stops accepting and waits for the responses in flight,
    /// at most `drainLimit`; throws `DrainExceeded` when it had to cut any off.
    /// `onListening` gets the bound port (useful with port 0).
    /// Every two seconds while the database answers: settles the rescores owed for longer than two
    /// seconds (a request's own settles them at once; these are the ones nobody is waiting for).
    static func settleOwed(_ db: Database, liveness: DatabaseLiveness, logger: Logger) async {
        // At start everything owed is settled; afterwards what has waited more than two seconds.
        var olderThan: TimeInterval = 0
        while !Task.isCancelled {
            if !(await liveness.isDown) {
                switch await IncrementalRescore(db).settleOwed(olderThan: olderThan, actor: "sleeper-serve") {
                case .nothingOwed: break
                case .settled(let behind, let outcome): logger.notice("settled \(behind.changes) change(s) owed a rescore: \(outcome.summary)")
                case .behind(let behind, let why): logger.warning("\(behind.summary) (settling failed: \(why))")
                }
            }
            olderThan = 2
            try? await Task.sleep(for: .seconds(2))
        }
    }

    public static func run(_ options: Options, db: Database, logger: Logger, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let liveness = DatabaseLiveness(db.settings, logger: logger)
        let drain = Drain(limit: options.drainLimit)
        let handlers = Handlers(
            db: db, limits: options.limits, metricsRegistry: ServerMetrics.shared, contractText: contract, liveness: liveness,
            reportRules: try options.reportRules ?? ScoredChanges.bundledReportRules(), scanRoots: options.scanRoots)
        let router = APIRouter.build(handlers: handlers, drain: drain)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [DeliverBeforeClose(drain: drain)])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "sleeper"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? options.port) },
            logger: logger)
        // The database is probed every second on a connection of its own, so that readiness and
        // the 503s while it is down answer at once, and recovery is seen within a second.
        let watch = Task { await liveness.watch(every: .seconds(1)) }
        defer { watch.cancel() }
        // A committed change whose rescore was cut short (an outage, a killed process) is owed one:
        // settled at start, on recovery, and whenever one has waited a few seconds.
        let settler = Task { await settleOwed(db, liveness: liveness, logger: logger) }
        defer { settler.cancel() }
        // Refusals counted per source and minute are written once the minute is over.
        let refusals = handlers.refusals
        let flusher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                await refusals.flush(db)
            }
        }
        defer { flusher.cancel() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app),
            .init(service: DrainWatch(drain: drain, logger: logger), successTerminationBehavior: .ignore),
        ]
        if let webhooks = options.webhooks, !webhooks.urls.isEmpty {
            services.append(.init(service: WebhookService(db: db, settings: webhooks, logger: logger), successTerminationBehavior: .ignore))
        }
        // The hard stop is armed from a queue of its own: work that never yields can hold every
        // thread of the cooperative pool, and then nothing there would ever hear the signal.
        // Run in process (`options.shutdown`), the service leaves the signals to its host.
        let signals: [Int32] = options.shutdown == nil ? [SIGTERM, SIGINT] : []
        let hardStops = signals.map { signal -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: DispatchQueue(label: "sleeper.hard-stop"))
            source.setEventHandler { DrainWatch.hardStop(after: options.drainLimit + DrainWatch.hardStopGrace, drain: drain, logger: logger) }
            source.resume()
            return source
        }
        defer { hardStops.forEach { $0.cancel() } }
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: options.shutdown == nil ? [.sigterm, .sigint] : [],
            logger: logger)
        // Past the limit the group cancels the server, which closes the connections still writing.
        configuration.maximumGracefulShutdownDuration = options.drainLimit
        let group = ServiceGroup(configuration: configuration)
        options.shutdown?.attach(group)
        try await group.run()
        await DatabaseGate.within(seconds: 3) { await refusals.flush(db, everything: true) }
        // A close the drain limit forced is scheduled on the connection's event loop: give those
        // a moment to be counted. What is still held when the process ends is cut off by its end.
        let settle = ContinuousClock.now
        while (drain.snapshot.held > 0 || drain.snapshot.connections > 0) && ContinuousClock.now - settle < .seconds(1) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let after = drain.snapshot
        if after.cutOff > 0 || after.inFlight > 0 || after.held > 0 {
            let exceeded = DrainExceeded(cutOff: max(after.cutOff + after.held, after.inFlight), limit: options.drainLimit)
            logger.error("\(exceeded)")
            throw exceeded
        }
        if let since = after.stoppingSince { logger.notice("stopped: every response delivered, \(ContinuousClock.now - since) after the signal") }
    }
}
