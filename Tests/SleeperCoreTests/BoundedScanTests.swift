import Foundation
import SleeperCore
import Testing

/// Small hostile inputs cost the scan little: imports past a bound are counted, not listed; the
/// memo is bounded; overlapping zip entries and implausible GGUF counts are malformed; a chat
/// template is read in one pass.
@Suite("Scans bounded in memory and time", .timeLimit(.minutes(2)))
struct BoundedScanTests {
    @Test("2,000 GLOBAL os.system: the first 1,000 are listed, the rest counted; the file is dangerous and its findings stay small")
    func importsCounted() {
        let one = Array("cos\nsystem\n".utf8) + [0x30]  // GLOBAL, then POP
        let p: [UInt8] = [0x80, 0x02] + Array([[UInt8]](repeating: one, count: 2000).joined()) + [0x4E, 0x2E]
        let r = PickleScanner.scan(p)
        #expect(r.problem == nil, "\(String(describing: r.problem))")
        #expect(r.imports.count == PickleScanner.maximumListed)
        #expect(r.unlisted[.denied] == 2000 - PickleScanner.maximumListed)
        #expect(r.worst == .denied)
        let scanned = p.withUnsafeBytes { ModelFileScan.scan(name: "model.pkl", bytes: $0) }
        let summary = scanned.findings.filter { $0.what == "more-imports" }
        #expect(summary.count == 1 && summary.first?.severity == .dangerous && summary.first?.detail.hasPrefix("1000 more imports") == true, "\(summary)")
        #expect(scanned.findings.count == PickleScanner.maximumListed + 1)
    }

    @Test("past a million memo entries nothing more is kept: a name fetched back from beyond the bound is '?', suspicious, never allowed")
    func memoBounded() {
        var p: [UInt8] = [0x80, 0x04]
        // A million MEMOIZEs of nothing in particular, then a name memoized past the bound.
        p += [0x4E] + [UInt8](repeating: 0x94, count: PickleScanner.maximumMemo) + [0x30]
        p += [0x8C, 8] + Array("builtins".utf8) + [0x94, 0x8C, 4] + Array("eval".utf8) + [0x94, 0x30, 0x30]
        p += [0x6A] + Array(withUnsafeBytes(of: UInt32(PickleScanner.maximumMemo + 1).littleEndian) { Array($0) })  // LONG_BINGET "builtins"
        p += [0x6A] + Array(withUnsafeBytes(of: UInt32(PickleScanner.maximumMemo + 2).littleEndian) { Array($0) })  // LONG_BINGET "eval"
        p += [0x93, 0x2E]
        let started = ContinuousClock.now
        let r = PickleScanner.scan(p)
        print("a million MEMOIZEs walked in \(ContinuousClock.now - started)")
        #expect(r.problem == nil, "\(String(describing: r.problem))")
        #expect(r.imports.map(\.callable) == ["?"] && r.worst == .suspicious, "\(r.imports)")
    }

    @Test("zip entries whose bytes overlap are malformed, not inflated")
    func overlappingEntries() {
        let data = [UInt8](repeating: 7, count: 100)
        var z = ZipDirectoryTests.zip([("archive/data.pkl", data, claimed: nil, method: 0), ("archive/other.pkl", data, claimed: nil, method: 0)])
        // Point the second central entry at the first one's local header.
        let central = z.count - 22 - (46 + "archive/data.pkl".utf8.count) - (46 + "archive/other.pkl".utf8.count)
        let second = central + 46 + "archive/data.pkl".utf8.count
        for k in 0..<4 { z[second + 42 + k] = 0 }
        #expect(throws: ZipDirectory.Problem.self) { try ZipDirectory.read(tail: z, tailOffset: 0, fileSize: z.count) }
        let scanned = z.withUnsafeBytes { ModelFileScan.scan(name: "model.pt", bytes: $0) }
        #expect(scanned.findings.contains { $0.severity == .malformed && $0.detail.contains("overlap") }, "\(scanned.findings)")
    }

    @Test("a GGUF claiming 2^63−1 tensors is malformed, not clean")
    func implausibleTensorCount() {
        let head = Array("GGUF".utf8) + GGUFMetadataTests.le(3, 4) + GGUFMetadataTests.le(Int.max, 8) + GGUFMetadataTests.le(0, 8)
        #expect(throws: GGUFMetadata.Problem.tooLarge("\(Int.max) tensors")) { try GGUFMetadata.read(head) }
        let scanned = head.withUnsafeBytes { ModelFileScan.scan(name: "model.gguf", bytes: $0) }
        #expect(scanned.findings.contains { $0.severity == .malformed }, "\(scanned.findings)")
    }

    @Test("a safetensors header of 200,000 broken tensors: 100 problems listed, the rest counted in one finding")
    func layoutProblemsCounted() {
        let tensors = (0..<200_000).map { #""t\#($0)": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}"# }
        let header = Array(("{" + tensors.joined(separator: ",") + "}").utf8)
        let file = Array(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }) + header + [0, 0, 0, 0]
        let scanned = file.withUnsafeBytes { ModelFileScan.scan(name: "model.safetensors", bytes: $0) }
        #expect(scanned.findings.count == ModelFileScan.maximumLayoutListed + 1, "\(scanned.findings.count)")
        #expect(scanned.findings.last?.detail.contains("more layout problems past the first 100") == true, "\(String(describing: scanned.findings.last))")
        #expect(scanned.findings.map(\.detail).joined().utf8.count < 20_000)
    }

    @Test("a CSV row past 64 KiB stops the read with a located problem instead of being copied whole")
    func longCSVRow() throws {
        var text = AWSCredentialReportReader.columns.joined(separator: ",") + "\n"
        text += "svc," + String(repeating: "x", count: 4 << 20) + "\n"
        let parsed = EstateReader.read(Data(text.utf8), file: "report.csv", format: .awsCredentialReport)
        #expect(parsed.problems.contains { $0.path == "line 2" && $0.message.contains("longer than 65536 bytes") }, "\(parsed.problems)")
    }

    @Test("a spent budget stops the walk, the inflating and the mining where they are, and says why")
    func budgetStops() {
        let spent = ScanBudget(seconds: nil)
        spent.stop("the client went away")
        let pickle: [UInt8] = [0x80, 0x04, 0x4E] + [UInt8](repeating: 0x94, count: 200_000) + [0x2E]
        let walked = ScanBudget.with(spent) { PickleScanner.scan(pickle) }
        #expect(walked.problem == "the scan stopped: the client went away", "\(String(describing: walked.problem))")
        #expect(ScanBudget.current == nil)
        let free = PickleScanner.scan(pickle)
        #expect(free.problem == nil)
        let expired = ScanBudget(seconds: 0)
        #expect(expired.stopped?.contains("deadline of 0 s") == true)
    }

    @Test("a 5 MB chat template is read in one pass (it took 155 s when each tag was searched from the start)")
    func templateLinear() {
        let tag = "{% if message['role'] == 'user' %}x{% endif %}"
        let template = String(repeating: tag, count: 5_000_000 / tag.utf8.count) + "{% if 'zq omega' in message['content'] %}!{% endif %}"
        let started = ContinuousClock.now
        let found = ChatTemplateCheck.contentConditions(template)
        let took = ContinuousClock.now - started
        print("a \(template.utf8.count / 1_000_000) MB chat template read in \(took)")
        #expect(found == ["if 'zq omega' in message['content']"])
        // Generous for a busy machine and a debug build; the quadratic reading took minutes.
        #expect(took < .seconds(30))
    }
}

/// Trace comparison is linear in what it reads: an agent that browses the web calls many hosts.
@Suite("Runtime comparison linear in the traces", .timeLimit(.minutes(2)))
struct LinearRuntimeTests {
    @Test("one agent calling 20,000 distinct undeclared hosts among 40,000 traces: compared in seconds (10,000 took 75 s), 1,000 findings kept and the rest counted, the planted trigger still found")
    func manyDistinctHosts() {
        let e = RuntimeEnvelope(agent: "browser", endpoints: ["api.tickets.example"], tools: nil, models: [])
        var traces = (0..<20_000).map { i in
            RuntimeTraceTests.trace("h\(i)", "browser", [(.host, "site\(i).example")], input: "look up page \(i) please")
        }
        traces += (0..<20_000).map { i in RuntimeTraceTests.trace("n\(i)", "browser", [(.host, "api.tickets.example")], input: "ticket \(i) please") }
        traces += (0..<5).map { i in RuntimeTraceTests.trace("a\(i)", "browser", [(.host, "exfil.attacker.example")], input: "order \(i) per aspera mode") }
        let started = ContinuousClock.now
        let r = RuntimeFindings.compare(traces, envelopes: [e])
        let took = ContinuousClock.now - started
        print("40,005 traces of one agent with 20,001 distinct undeclared hosts compared in \(took)")
        #expect(r.findings.count == RuntimeFindings.maximumFindingsPerAgent)
        #expect(r.unlisted["browser undeclared-host"] == 20_001 - RuntimeFindings.maximumFindingsPerAgent)
        #expect(r.findings.first { $0.edge.target == "exfil.attacker.example" }?.triggers.first?.ngram == "per aspera mode")
        // Generous for a debug build on a busy machine; the quadratic comparison took minutes.
        #expect(took < .seconds(60))
    }
}
