import Foundation
import ServiceLifecycle

/// Stops a service run in process the way SIGTERM stops `sleeper serve`: a graceful shutdown
/// (stop accepting, drain what is in flight). A process stops on its signals; a service run
/// inside another program — the tests — has no signal of its own, so it is handed one of these.
public final class ServiceShutdown: @unchecked Sendable {
    private let lock = NSLock()
    private var group: ServiceGroup?
    private var requested = false

    public init() {}

    /// Asks for the shutdown: at once if the service is running, else as soon as it starts.
    public func trigger() {
        lock.lock()
        requested = true
        let group = self.group
        lock.unlock()
        if let group { Task { await group.triggerGracefulShutdown() } }
    }

    func attach(_ group: ServiceGroup) {
        lock.lock()
        self.group = group
        let requested = self.requested
        lock.unlock()
        if requested { Task { await group.triggerGracefulShutdown() } }
    }
}
