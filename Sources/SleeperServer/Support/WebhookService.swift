import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SleeperCore
import SleeperStore

/// Where `sleeper serve` sends its webhooks, and the secret it signs them with.
public struct WebhookSettings: Sendable {
    public var urls: [String]
    public var secret: Data
    /// How often the outbox is scanned for new facts and due deliveries.
    public var interval: Duration
    public init(urls: [String], secret: Data, interval: Duration = .seconds(1)) {
        self.urls = urls
        self.secret = secret
        self.interval = interval
    }
}

/// Sends the outbox's events to every configured URL as signed JSON (`X-Sleeper-Signature`),
/// retrying with doubling waits, until the service stops. A failed round is logged and tried again.
struct WebhookService: Service {
    let db: Database
    let settings: WebhookSettings
    let logger: Logger

    func run() async throws {
        let outbox = WebhookOutbox(db)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await outbox.scan(now: SleeperClock.now())
                    try await outbox.enqueue(urls: settings.urls)
                    for delivery in try await outbox.claim() {
                        let (status, error) = await send(delivery)
                        try await outbox.finish(delivery, status: status, error: error)
                        if let error { logger.warning("webhook \(delivery.kind) #\(delivery.eventID) to \(delivery.url): \(error)") }
                    }
                } catch {
                    logger.error("webhooks: \(StoreError.describe(error))")
                }
                try? await Task.sleep(for: settings.interval)
            }
        }
    }

    /// One POST: the HTTP status, or what went wrong (never the secret).
    func send(_ d: WebhookOutbox.Delivery) async -> (Int?, String?) {
        let body = Data(d.body.utf8)
        var request = HTTPClientRequest(url: d.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sleeper/\(SleeperVersion.current)")
        request.headers.add(name: "X-Sleeper-Event", value: d.kind)
        request.headers.add(name: "X-Sleeper-Event-Id", value: String(d.eventID))
        request.headers.add(name: WebhookSignature.header,
                            value: WebhookSignature.sign(secret: settings.secret, timestamp: Int(Date().timeIntervalSince1970), body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            return (code, (200..<300).contains(code) ? nil : "answered \(code)")
        } catch {
            return (nil, "\(error)")
        }
    }
}
