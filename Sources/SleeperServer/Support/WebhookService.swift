import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SleeperCore
import SleeperStore

/// Where `sleeper serve` sends its webhooks, and the secret it signs them with.
public struct WebhookSettings: Sendable {
    /// The receivers as given (credentials in a URL's userinfo included: they are sent, never stored).
    public var urls: [String]
    public var secret: Data
    /// How often the outbox is scanned for new facts and due deliveries.
    public var interval: Duration
    /// How long one delivery may take before it counts as failed.
    public var timeout: Duration
    public init(urls: [String], secret: Data, interval: Duration = .seconds(1), timeout: Duration = .seconds(10)) {
        self.urls = urls
        self.secret = secret
        self.interval = interval
        self.timeout = timeout
    }

    /// A receiver as stored (delivery rows, logs): without the userinfo of its URL.
    public static func stored(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.user != nil || parts.password != nil else { return url }
        parts.user = nil
        parts.password = nil
        return parts.string ?? url
    }

    /// The stored form of each receiver, and the URL to send to.
    var receivers: [String: String] {
        Dictionary(urls.map { (Self.stored($0), $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Sends the outbox's events to every configured URL as signed JSON (`X-Sleeper-Signature`),
/// retrying with doubling waits, until the service stops. A failed round is logged and tried again.
///
/// Each receiver is served by a worker of its own, so a slow one delays only itself (one slow
/// receiver used to stall every delivery, and was sent each event 8–9 times as its leases ran
/// out); a receiver with a delivery in flight is not claimed again until it ends. Redirects are
/// never followed: a 3xx is a failed delivery, logged with where it pointed (a 307 once re-posted
/// the signed body to any origin it named).
struct WebhookService: Service {
    let db: Database
    let settings: WebhookSettings
    let logger: Logger

    func run() async throws {
        let outbox = WebhookOutbox(db)
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(settings.timeout.components.seconds)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let receivers = settings.receivers
        let busy = NIOLockedValueBox<Set<String>>([])
        let workers = NIOLockedValueBox<[String: Task<Void, Never>]>([:])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await outbox.scan(now: SleeperClock.now())
                    try await outbox.enqueue(urls: Array(receivers.keys))
                    let claimed = try await outbox.claim(excluding: Array(busy.withLockedValue { $0 }))
                    for (url, deliveries) in Dictionary(grouping: claimed, by: \.url) {
                        guard busy.withLockedValue({ $0.insert(url).inserted }) else { continue }
                        let worker = Task {
                            defer { _ = busy.withLockedValue { $0.remove(url) } }
                            for delivery in deliveries where !Task.isCancelled {
                                let (status, error) = await send(delivery, to: receivers[url] ?? url, client: client)
                                do { try await outbox.finish(delivery, status: status, error: error) } catch {
                                    logger.error("webhooks: \(StoreError.describe(error))")
                                }
                                if let error { logger.warning("webhook \(delivery.kind) #\(delivery.eventID) to \(url): \(error)") }
                            }
                        }
                        workers.withLockedValue { $0[url] = worker }
                    }
                } catch {
                    logger.error("webhooks: \(StoreError.describe(error))")
                }
                try? await Task.sleep(for: settings.interval)
            }
        }
        for worker in workers.withLockedValue({ Array($0.values) }) { worker.cancel(); await worker.value }
        try? await client.shutdown()
    }

    /// One POST: the HTTP status, or what went wrong (never the secret).
    func send(_ d: WebhookOutbox.Delivery, to url: String, client: HTTPClient) async -> (Int?, String?) {
        let body = Data(d.body.utf8)
        // Credentials in the URL travel as Basic authentication; the URL itself goes without them.
        var request = HTTPClientRequest(url: WebhookSettings.stored(url))
        if let parts = URLComponents(string: url), let user = parts.user {
            let pair = "\(user.removingPercentEncoding ?? user):\((parts.password ?? "").removingPercentEncoding ?? "")"
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        }
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sleeper/\(SleeperVersion.current)")
        request.headers.add(name: "X-Sleeper-Event", value: d.kind)
        request.headers.add(name: "X-Sleeper-Event-Id", value: String(d.eventID))
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.sign(secret: settings.secret, timestamp: Int(Date().timeIntervalSince1970), body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeout.components.seconds)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            if (300..<400).contains(code) {
                let location = response.headers.first(name: "Location").map { WebhookSettings.stored($0) } ?? "nowhere"
                return (code, "answered \(code), a redirect to \(location): not followed")
            }
            return (code, (200..<300).contains(code) ? nil : "answered \(code)")
        } catch {
            return (nil, "\(error)")
        }
    }
}
