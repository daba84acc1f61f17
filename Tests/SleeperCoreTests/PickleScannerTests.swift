import Foundation
import SleeperCore
import Testing

/// Pickles built opcode by opcode in the test (none is ever loaded, and no real malware is kept):
/// what each would import when loaded is named with its offset and judged.
@Suite("Pickle opcodes read without executing", .timeLimit(.minutes(2)))
struct PickleScannerTests {
    static func bytes(_ parts: [Any]) -> [UInt8] {
        parts.flatMap { part -> [UInt8] in
            switch part {
            case let s as String: return Array(s.utf8)
            case let b as [UInt8]: return b
            case let b as UInt8: return [b]
            default: return []
            }
        }
    }

    /// SHORT_BINUNICODE of `s`.
    static func short(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }

    @Test("protocol 2: GLOBAL os.system then REDUCE is denied, at its offset")
    func globalDenied() {
        let p = Self.bytes([[0x80, 0x02] as [UInt8], "cos\nsystem\n", [0x71, 0x00] as [UInt8], [0x58, 4, 0, 0, 0] as [UInt8], "echo", [0x85, 0x52, 0x2E] as [UInt8]])
        let r = PickleScanner.scan(p)
        #expect(r.problem == nil)
        #expect(r.imports == [.init(offset: 2, opcode: "GLOBAL", callable: "os.system", verdict: .denied)])
        #expect(r.worst == .denied && r.length == p.count)
    }

    @Test("protocol 4: STACK_GLOBAL names what was pushed, through MEMOIZE and BINGET too")
    func stackGlobal() {
        // builtins.eval straight; then posix.system with "posix" fetched back from the memo.
        let p = Self.bytes([
            [0x80, 0x04, 0x95, 40, 0, 0, 0, 0, 0, 0, 0] as [UInt8], Self.short("builtins"), [0x94] as [UInt8], Self.short("eval"), [0x94, 0x93] as [UInt8],
            Self.short("posix"), [0x71, 0x07] as [UInt8], Self.short("unused"), [0x30, 0x68, 0x07] as [UInt8], Self.short("system"), [0x93, 0x2E] as [UInt8],
        ])
        let r = PickleScanner.scan(p)
        #expect(r.problem == nil)
        #expect(r.imports.map(\.callable) == ["builtins.eval", "posix.system"])
        #expect(r.imports.allSatisfy { $0.verdict == .denied && $0.opcode == "STACK_GLOBAL" })
    }

    @Test("what checkpoints use is allowed; an unknown callable is suspicious, never safe; INST is read like GLOBAL")
    func verdicts() {
        let ordered = Self.bytes([[0x80, 0x02] as [UInt8], "ccollections\nOrderedDict\n", [0x71, 0x00, 0x29, 0x52, 0x2E] as [UInt8]])
        #expect(PickleScanner.scan(ordered).imports.map(\.verdict) == [.allowed])
        let tensor = Self.bytes([[0x80, 0x02] as [UInt8], "ctorch._utils\n_rebuild_tensor_v2\n", [0x29, 0x52, 0x2E] as [UInt8]])
        #expect(PickleScanner.scan(tensor).worst == .allowed)
        let unknown = Self.bytes([[0x80, 0x02] as [UInt8], "cmylib.layers\nThing\n", [0x29, 0x52, 0x2E] as [UInt8]])
        #expect(PickleScanner.scan(unknown).imports == [.init(offset: 2, opcode: "GLOBAL", callable: "mylib.layers.Thing", verdict: .suspicious)])
        let inst = Self.bytes(["(S'id'\nisubprocess\ncheck_output\n."])
        #expect(PickleScanner.scan(inst).imports == [.init(offset: 7, opcode: "INST", callable: "subprocess.check_output", verdict: .denied)])
        let nested = Self.bytes([[0x80, 0x02] as [UInt8], "cpickle\nloads\n", [0x29, 0x52, 0x2E] as [UInt8]])
        #expect(PickleScanner.scan(nested).worst == .denied, "a pickle that loads another pickle")
    }

    @Test("a pickle cut short, without STOP or with an unknown opcode is a problem, not a pass; long data is skipped, not read")
    func problems() {
        let whole = Self.bytes([[0x80, 0x02] as [UInt8], "cos\nsystem\n", [0x52, 0x2E] as [UInt8]])
        #expect(PickleScanner.scan(Array(whole.dropLast())).problem?.contains("no STOP") == true)
        #expect(PickleScanner.scan(Array(whole.prefix(6))).problem?.contains("cut short") == true)
        #expect(PickleScanner.scan([0x80, 0x02, 0xFF, 0x2E]).problem == "unknown opcode 0xff at offset 2")
        // A BINBYTES8 that claims more than the file holds.
        #expect(PickleScanner.scan([0x80, 0x04, 0x8E, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x2E]).problem?.contains("cut short") == true)
        // A megabyte of tensor bytes between two imports: both found, offsets exact.
        let blob = [UInt8](repeating: 0x63, count: 1 << 20)
        let p = Self.bytes([[0x80, 0x02] as [UInt8], "ctorch\nFloatStorage\n", [0x42, 0, 0, 0x10, 0] as [UInt8], blob, "cos\nsystem\n", [0x2E] as [UInt8]])
        let r = PickleScanner.scan(p)
        #expect(r.imports.map(\.callable) == ["torch.FloatStorage", "os.system"])
        #expect(r.imports.last?.offset == 2 + 20 + 5 + (1 << 20))
        #expect(PickleScanner.scan(p, maximumOpcodes: 2).problem == "more than 2 opcodes")
    }
}
