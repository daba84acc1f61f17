/// Bytes as lower-case hexadecimal: how Sleeper writes every digest (artifacts, ledger hashes,
/// token hashes, model digests).
extension Sequence where Element == UInt8 {
    public var hexEncoded: String { map { String(format: "%02x", $0) }.joined() }
}
