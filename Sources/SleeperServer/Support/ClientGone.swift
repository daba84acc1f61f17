import NIOCore

/// Tells long work that its client went away. The server allows half-closed connections, so a
/// client that leaves closes only the input and the channel stays open until the answer is
/// written: the input's closing is watched for at the front of the connection's pipeline (and
/// the connection going inactive), for as long as the work runs.
final class ClientGone: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let gone: @Sendable () -> Void

    private init(_ gone: @escaping @Sendable () -> Void) { self.gone = gone }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { gone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        gone()
        context.fireChannelInactive()
    }

    /// Runs `work`, calling `gone` if the client on `channel` leaves meanwhile.
    static func watching<T: Sendable>(
        _ channel: any Channel, gone: @escaping @Sendable () -> Void,
        _ work: () async throws -> T
    ) async throws -> T {
        let watcher = ClientGone(gone)
        let added = (try? await channel.pipeline.addHandler(watcher, position: .first).get()) != nil
        if !channel.isActive { gone() }
        defer { if added { channel.pipeline.removeHandler(watcher, promise: nil) } }
        return try await work()
    }
}
