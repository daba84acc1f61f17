import Hummingbird
import NIOCore
import SleeperCore

/// The per-request context: Hummingbird's core storage and nothing else; who is calling is
/// resolved by the route wrapper and handed to the handler.
public struct APIContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where the request came from: refusals are counted and rate-limited per source.
    public let remoteAddress: SocketAddress?
    /// The client's connection: long work (a scan) stops when it goes away.
    let channel: any Channel
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The source as the audit log names it: the peer's IP address.
    var sourceAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}

/// The holder of a valid token.
public struct Caller: Sendable {
    public var name: String
    public var role: AccessRole
    /// How the audit log names changes made with this token.
    public var actor: String { "token:\(name)" }
}

extension Optional where Wrapped == Caller {
    /// The caller of a route that needs a role: the route wrapper has already refused requests
    /// without a valid token, so this only guards against a route declared without a role.
    func required() throws -> Caller {
        guard let caller = self else { throw APIError(status: .unauthorized, code: "unauthorized", message: "a token is required") }
        return caller
    }
}
