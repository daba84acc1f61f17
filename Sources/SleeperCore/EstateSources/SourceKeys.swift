/// Keys for what sources bring, built from the source's own identifiers: the characters a key may
/// not hold become `-`, and an over-long key is cut (keys are at most 200 characters).
enum SourceKeys {
    static func key(_ parts: String?...) -> String {
        let text = parts.compactMap { $0?.isEmpty == false ? $0 : nil }.joined()
        var out = ""
        for scalar in text.unicodeScalars {
            let c = Character(scalar)
            let allowed = (c.isASCII && (c.isLetter || c.isNumber)) || ".:_/@+-".contains(c)
            out.append(allowed ? c : "-")
        }
        while let first = out.first, !(first.isASCII && (first.isLetter || first.isNumber)) { out.removeFirst() }
        return String(out.prefix(200))
    }
}
