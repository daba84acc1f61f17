#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a trap (a Swift runtime check failing: SIGILL on x86-64, SIGTRAP on arm64) into exit
/// status 76 with a message that says what the user needs to know: the process stopped in the
/// middle of its work, every change is one transaction, so it is either wholly there or not at
/// all, and the audit log tells which.
///
/// Why: the PostgreSQL driver in use (postgres-nio 1.33.2) traps when the server closes a
/// connection while a large result is being read more slowly than it arrives
/// (`RowStreamStateMachine.channelReadComplete` in state `waitingForDemand`): a database killed
/// under a busy command crashed it instead of letting it report the loss. The runtime's own
/// "Fatal error" line is printed before the trap, so the cause stays visible.
enum TrapExit {
    static func install() {
        for trap in [SIGILL, SIGTRAP] {
            signal(trap) { _ in
                let message: StaticString = """
                    sleeper: stopped on an internal error (above); if the database was going away at the time, this is a known defect \
                    of the PostgreSQL driver. Each change is one transaction, so it was committed whole or not at all: whether it was \
                    is unknown until the database is back, when `sleeper audit` lists it if it was.

                    """
                message.withUTF8Buffer { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
                _exit(76)
            }
        }
    }
}
