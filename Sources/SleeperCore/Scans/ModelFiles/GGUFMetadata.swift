import Foundation

/// A GGUF file's metadata (the key/value pairs before the tensors), and the one check on it that
/// bears on backdoors: a chat template whose logic branches on what a message says. The
/// template runs on every conversation; a condition on message text is where a trigger planted
/// in a template (rather than in the weights) would sit.
public struct GGUFMetadata: Sendable, Equatable {
    public var version: Int
    public var tensorCount: Int
    /// String values by key (numbers and arrays are skipped, not kept).
    public var strings: [String: String]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notGGUF, cutShort(Int), tooLarge(String), unknownType(Int, Int)
        public var description: String {
            switch self {
            case .notGGUF: "not a GGUF file (no GGUF magic)"
            case .cutShort(let at): "the metadata is cut short at byte \(at)"
            case .tooLarge(let what): "\(what) is larger than a GGUF header may claim here"
            case .unknownType(let type, let at): "unknown value type \(type) at byte \(at)"
            }
        }
    }

    /// Limits on what a header may claim, so that a crafted count cannot make the read long.
    /// A million tensors is far past any published model (a few thousand at most): a file that
    /// claims more is malformed, not clean (one claiming 2^63−1 once passed as clean).
    public static let maximumEntries = 1_000_000, maximumString = 64 << 20, maximumTensors = 1_000_000

    /// `head`: the file's first bytes, enough to hold the metadata (a few megabytes at most).
    public static func read(_ head: [UInt8]) throws(Problem) -> GGUFMetadata {
        var i = 0
        func int(_ n: Int) throws(Problem) -> Int {
            guard i + n <= head.count else { throw .cutShort(i) }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(head[i + k]) << (8 * UInt64(k)) }
            i += n
            guard v <= UInt64(Int.max) else { throw .tooLarge("a count") }
            return Int(v)
        }
        func string() throws(Problem) -> String {
            let n = try int(8)
            guard n <= maximumString else { throw .tooLarge("a string of \(n) bytes") }
            guard i + n <= head.count else { throw .cutShort(i) }
            defer { i += n }
            return String(decoding: head[i..<(i + n)], as: UTF8.self)
        }
        /// Sizes of the fixed-width types (0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 10 u64, 11 i64, 12 f64).
        let widths: [Int: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        func skip(type: Int) throws(Problem) -> String? {
            if let w = widths[type] { _ = try int(w); return nil }
            switch type {
            case 8: return try string()
            case 9:
                let inner = try int(4), count = try int(8)
                guard count <= maximumEntries * 64 else { throw .tooLarge("an array of \(count) values") }
                if let w = widths[inner] {
                    guard i + w * count <= head.count else { throw .cutShort(i) }
                    i += w * count
                } else {
                    for _ in 0..<count { _ = try skip(type: inner) }
                }
                return nil
            default: throw .unknownType(type, i)
            }
        }
        guard head.count >= 4, Array(head[0..<4]) == Array("GGUF".utf8) else { throw .notGGUF }
        i = 4
        let version = try int(4), tensors = try int(8), count = try int(8)
        guard tensors <= maximumTensors else { throw .tooLarge("\(tensors) tensors") }
        guard count <= maximumEntries else { throw .tooLarge("\(count) metadata entries") }
        var strings: [String: String] = [:]
        for _ in 0..<count {
            let key = try string()
            let type = try int(4)
            if let value = try skip(type: type) { strings[key] = value }
        }
        return GGUFMetadata(version: version, tensorCount: tensors, strings: strings)
    }

    /// The chat template's conditions on what a message says (`ChatTemplateCheck`).
    public var contentConditions: [String] {
        strings["tokenizer.chat_template"].map(ChatTemplateCheck.contentConditions) ?? []
    }
}
