import Foundation
import Hummingbird
import Logging
import NIOCore
import SleeperCore
import SleeperStore

/// `sleeper serve`: the API over one shared pool, run under swift-service-lifecycle so that
/// SIGTERM or SIGINT stop accepting, let in-flight requests finish, and exit cleanly.
public enum SleeperService {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var limits: ServerLimits
        public init(host: String = "127.0.0.1", port: Int = 8080, limits: ServerLimits = .init()) {
            self.host = host
            self.port = port
            self.limits = limits
        }
    }

    /// The OpenAPI document, compiled into the binary from `Sources/SleeperServer/openapi.yaml`.
    public static var contract: String {
        EmbeddedResources.base64Files.first { $0.path.hasSuffix("openapi.yaml") }
            .flatMap { Data(base64Encoded: $0.base64) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Runs until a shutdown signal. `onListening` gets the bound port (useful with port 0).
    public static func run(_ options: Options, db: Database, logger: Logger, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let handlers = Handlers(db: db, limits: options.limits, metricsRegistry: ServerMetrics.bootstrap(), contractText: contract)
        let router = APIRouter.build(handlers: handlers)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "sleeper"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? options.port) },
            logger: logger)
        try await app.runService()
    }
}
