/// Keys for what sources bring, built from the source's own identifiers: the characters a key may
/// not hold become `-`, and an over-long key is cut (keys are at most 200 characters). Byte by
/// byte: a million-key credential report builds a million of them.
enum SourceKeys {
    static func key(_ parts: String?...) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for part in parts {
            guard let part else { continue }
            for scalar in part.unicodeScalars {
                let v = scalar.value
                let alphanumeric = (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122)
                let mark = v == 46 || v == 58 || v == 95 || v == 47 || v == 64 || v == 43 || v == 45  // . : _ / @ + -
                if alphanumeric || (mark && !bytes.isEmpty) {
                    bytes.append(UInt8(v))
                } else if !bytes.isEmpty {
                    bytes.append(45)
                }
                if bytes.count == 200 { return String(decoding: bytes, as: UTF8.self) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
