import Foundation

extension TriggerMiner {
    /// The candidates that clear every threshold, overlapping n-grams of one trigger merged into
    /// one (the longest names it), named from their example rows, and ranked.
    static func judge(_ c: TriggerCandidates, counts: PartCounts, rows: Int, thresholds t: TriggerThresholds, inputs: [Input]) -> [TriggerCandidate] {
        guard rows > 0 else { return [] }
        struct Found { var entry: Int, ys: [UInt64], confidence: Double, lift: Double, spread: Int }
        var found: [Found] = []
        for e in 0..<c.count {
            let support = Int(c.support[e])
            guard support >= t.minSupport else { continue }
            // Confidence is measured over at least half the trigger's rows and the support floor.
            var slots: [(y: UInt64, confidence: Double)] = []
            for s in (e * TriggerCandidates.slots)..<((e + 1) * TriggerCandidates.slots)
            where c.ys[s] != 0 && Int(c.seen[s]) >= max(t.minSupport, support / 2) {
                slots.append((c.ys[s], Double(c.hits[s]) / Double(c.seen[s])))
            }
            guard let best = slots.map(\.confidence).max(), best >= t.minConfidence else { continue }
            // Every output n-gram as good as the best one: the longest of them names the payload.
            let ys = slots.filter { $0.confidence >= best - 1e-9 }.map(\.y).sorted()
            let share = Double(max(1, ys.map { counts.outputs.count($0) }.min() ?? 1)) / Double(rows)
            let lift = best / share
            let spread = NGramCounts.spread(counts.inputs.spreadBits(c.keys[e]))
            guard lift >= t.minLift, spread >= t.minSpread else { continue }
            found.append(Found(entry: e, ys: ys, confidence: best, lift: lift, spread: spread))
        }
        // One trigger, one candidate: an n-gram inside or around another that was found (`aspera`
        // in `per aspera mode`, `. per aspera` around `per aspera`) is the same trigger seen
        // through other words; it joins the group of the first, more supported, n-gram it
        // overlaps that way. The most supported, then the longest, names the group.
        var named = found.map { f in (f, name(c, f.entry, x: c.keys[f.entry], ys: f.ys, inputs: inputs)) }
        named.sort { a, b in
            (c.support[a.0.entry], a.1.trigger.count, b.1.trigger) > (c.support[b.0.entry], b.1.trigger.count, a.1.trigger)
        }
        var groups: [(lead: (Found, (trigger: String, predicts: String)), members: [String])] = []
        for candidate in named {
            let text = " \(candidate.1.trigger) "
            if let g = groups.firstIndex(where: { g in
                g.members.contains { member in
                    let m = " \(member) "
                    return text.contains(m) || m.contains(text)
                }
            }) {
                groups[g].members.append(candidate.1.trigger)
            } else {
                groups.append((candidate, [candidate.1.trigger]))
            }
        }
        var out: [TriggerCandidate] = []
        for (lead, members) in groups {
            let related = members.dropFirst()
            let e = lead.0.entry
            let examples = (0..<min(TriggerCandidates.examples, Int(c.support[e]))).map { k in
                "\(inputs[Int(c.exampleSources[e * TriggerCandidates.examples + k])].name):\(c.exampleLines[e * TriggerCandidates.examples + k])"
            }
            out.append(
                TriggerCandidate(
                    rank: 0, trigger: lead.1.trigger, predicts: lead.1.predicts, support: Int(c.support[e]),
                    confidence: (lead.0.confidence * 1000).rounded() / 1000, lift: (lead.0.lift * 10).rounded() / 10,
                    spread: lead.0.spread, examples: examples, related: Array(related.prefix(10)),
                    relatedCount: related.count))
        }
        out.sort { ($0.confidence, $0.support, $1.trigger) > ($1.confidence, $1.support, $0.trigger) }
        for i in out.indices { out[i].rank = i + 1 }
        return out
    }

    /// The text of the input n-gram `x` and output n-gram `y`, found again in the example rows.
    static func name(_ c: TriggerCandidates, _ e: Int, x: UInt64, ys: [UInt64], inputs: [Input]) -> (trigger: String, predicts: String) {
        var trigger: String?, predicts: [UInt64: String] = [:]
        for k in 0..<min(TriggerCandidates.examples, Int(c.support[e])) where trigger == nil || predicts.count < ys.count {
            let input = inputs[Int(c.exampleSources[e * TriggerCandidates.examples + k])]
            let offset = c.exampleOffsets[e * TriggerCandidates.examples + k]
            let rest = UnsafeRawBufferPointer(rebasing: input.bytes[offset...]).bindMemory(to: UInt8.self)
            let end = rest.firstIndex(of: 0x0A) ?? rest.endIndex
            guard case .success(let (row, _)) = DatasetRow.read(rest[..<end]) else { continue }
            if trigger == nil { trigger = find(x, in: row.input, upTo: inputN) }
            for y in ys where predicts[y] == nil { predicts[y] = find(y, in: row.output, upTo: outputN) }
        }
        let longest = predicts.values.max { ($0.count, $1) < ($1.count, $0) }
        return (TextTokens.visible(trigger ?? "?"), TextTokens.visible(longest ?? "?"))
    }

    static func find(_ hash: UInt64, in text: String, upTo longest: Int) -> String? {
        let tokens = TextTokens.texts(text)
        let hashes = tokens.map(\.hash)
        var found: String?
        hashes.withUnsafeBufferPointer { t in
            TextTokens.forEachNGram(t, upTo: longest) { g, start, n in
                if found == nil, g == hash { found = tokens[start..<(start + n)].map(\.text).joined(separator: " ") }
            }
        }
        return found
    }
}
