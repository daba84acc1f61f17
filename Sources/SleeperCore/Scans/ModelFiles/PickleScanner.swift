/// Reads a pickle's opcodes without executing any of them and names every callable it would
/// import, at its offset. Loading a pickle runs whatever its GLOBAL, STACK_GLOBAL and INST
/// opcodes import and its REDUCE, BUILD, OBJ and NEWOBJ opcodes call: reading the imports is
/// reading what the file would do. Protocols 0 to 5 (Python's `pickletools` documents them).
public enum PickleScanner {
    /// One callable a pickle imports, and what is thought of it.
    public struct Import: Sendable, Equatable {
        public var offset: Int
        public var opcode: String
        /// `module.name`, or `?` where the name was built in a way a reader cannot follow.
        public var callable: String
        public var verdict: Verdict
        public init(offset: Int, opcode: String, callable: String, verdict: Verdict) {
            (self.offset, self.opcode, self.callable, self.verdict) = (offset, opcode, callable, verdict)
        }
    }

    /// `allowed`: what legitimate checkpoints use. `denied`: what runs code, opens files or the
    /// network, or loads more code. `suspicious`: anything else — never called safe.
    public enum Verdict: String, Sendable, Comparable {
        case allowed, suspicious, denied
        private var rank: Int {
            switch self {
            case .allowed: 0
            case .suspicious: 1
            case .denied: 2
            }
        }
        public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
    }

    public struct Result: Sendable, Equatable {
        /// The first `maximumListed` imports; the rest are counted by verdict in `unlisted`.
        public var imports: [Import] = []
        /// Imports past the first `maximumListed`, by verdict (a pickle of a million GLOBALs
        /// once answered with a quarter of a gigabyte of findings).
        public var unlisted: [Verdict: Int] = [:]
        /// Why the walk stopped before the pickle's STOP (cut short, an unknown opcode, too long).
        public var problem: String?
        /// Bytes read, up to and including STOP.
        public var length = 0
        public var worst: Verdict { (imports.map(\.verdict) + unlisted.filter { $0.value > 0 }.map(\.key)).max() ?? .allowed }
    }

    /// Imports listed one by one per pickle, and memo entries kept: bounds on the scan's memory
    /// (fifty million MEMOIZE opcodes once took 2.4 GB). A memo entry past the bound is not kept,
    /// so a later GET of it names its callable `?` (suspicious), never allowed.
    public static let maximumListed = 1_000, maximumMemo = 1_000_000

    /// What PyTorch, NumPy and plain Python containers write into checkpoints.
    static let allowed: Set<String> = [
        "collections.OrderedDict", "collections.defaultdict", "builtins.set", "builtins.frozenset", "builtins.slice",
        "builtins.bytearray", "builtins.complex", "builtins.range", "__builtin__.set", "copy_reg._reconstructor", "copyreg._reconstructor",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._tensor._rebuild_from_type_v2", "torch._utils._rebuild_meta_tensor_no_storage",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage",
        "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage", "torch.storage._load_from_bytes",
        "torch.float32", "torch.float16", "torch.bfloat16", "torch.float64", "torch.int64", "torch.int32", "torch.int8", "torch.uint8", "torch.bool",
        "torch.Size", "torch.device", "torch.nn.parameter.Parameter",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    ]

    /// Modules whose every name is denied, and single names of otherwise harmless modules.
    static let deniedModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "runpy", "webbrowser", "socket", "importlib", "pickle", "_pickle", "cPickle",
        "shutil", "sys", "ctypes", "pty", "commands", "multiprocessing", "code", "codeop", "marshal", "types", "asyncio",
        "http", "urllib", "requests", "ftplib", "smtplib", "telnetlib", "pip", "setuptools", "distutils", "platform", "signal",
    ]
    static let deniedNames: Set<String> = [
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr", "builtins.delattr",
        "builtins.__import__", "builtins.open", "builtins.globals", "builtins.locals", "builtins.vars", "builtins.input",
        "builtins.breakpoint", "builtins.help", "builtins.memoryview",
        "__builtin__.eval", "__builtin__.exec", "__builtin__.compile", "__builtin__.getattr", "__builtin__.__import__",
        "__builtin__.open", "__builtin__.execfile", "__builtin__.file",
        "torch.load", "torch.hub.load", "torch.jit.load", "numpy.load", "numpy.lib.npyio.load",
        "operator.attrgetter", "operator.methodcaller", "functools.partial",
    ]

    static func verdict(_ module: String, _ name: String) -> Verdict {
        let full = module + "." + name
        if allowed.contains(full) { return .allowed }
        let top = String(module.split(separator: ".").first ?? "")
        if deniedModules.contains(top) || deniedModules.contains(module) || deniedNames.contains(full) { return .denied }
        return .suspicious
    }

    /// Walks `bytes` from `start` to the first STOP. At most `maximumOpcodes` opcodes are read, so
    /// that a crafted file cannot make the walk long; nothing is allocated per byte of data.
    public static func scan(_ bytes: [UInt8], from start: Int = 0, maximumOpcodes: Int = 50_000_000) -> Result {
        bytes.withUnsafeBufferPointer { scan(buffer: $0, from: start, maximumOpcodes: maximumOpcodes) }
    }

    /// The same walk over bytes held elsewhere (a file mapped into memory): data opcodes are
    /// stepped over, never copied.
    public static func scan(buffer bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, maximumOpcodes: Int = 50_000_000) -> Result {
        var r = Result()
        var i = start
        // Values pushed that a later STACK_GLOBAL may name, and the memo (for BINGET and friends).
        var recent: [String?] = []
        var memo: [Int: String] = [:]
        // Only names are kept (the memo of everything else is nil to a reader, and absent here).
        func remember(_ k: Int, _ value: String?) {
            if let value, memo.count < maximumMemo || memo[k] != nil { memo[k] = value } else { memo.removeValue(forKey: k) }
        }
        var nextMemo = 0
        var last: String?
        func push(_ s: String?) {
            last = s
            recent.append(s)
            if recent.count > 64 { recent.removeFirst(recent.count - 2) }
        }
        func int(_ n: Int) -> Int? {
            guard i + n <= bytes.count else { return nil }
            var v = 0
            for k in 0..<n { v |= Int(bytes[i + k]) << (8 * k) }
            i += n
            return v
        }
        func line() -> String? {
            guard i < bytes.count, let end = bytes[i...].firstIndex(of: 0x0A) else { return nil }
            let s = String(decoding: bytes[i..<end], as: UTF8.self)
            i = end + 1
            return s
        }
        func take(_ n: Int) -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard n >= 0, n <= bytes.count - i else { return nil }
            defer { i += n }
            return bytes[i..<(i + n)]
        }
        func list(_ i: Import) {
            if r.imports.count < maximumListed { r.imports.append(i) } else { r.unlisted[i.verdict, default: 0] += 1 }
        }
        func found(_ offset: Int, _ opcode: String, _ module: String?, _ name: String?) {
            guard let module, let name else {
                list(Import(offset: offset, opcode: opcode, callable: "?", verdict: .suspicious))
                return
            }
            list(Import(offset: offset, opcode: opcode, callable: module + "." + name, verdict: verdict(module, name)))
        }
        var count = 0
        let budget = ScanBudget.current
        while i < bytes.count {
            count += 1
            guard count <= maximumOpcodes else { r.problem = "more than \(maximumOpcodes) opcodes"; r.length = i - start; return r }
            if count & 0xFFFF == 0, let why = budget?.stopped { r.problem = "the scan stopped: \(why)"; r.length = i - start; return r }
            let offset = i, op = bytes[i]
            i += 1
            var ok = true
            switch op {
            case 0x2E:  // STOP
                r.length = i - start
                return r
            case 0x28, 0x30, 0x31, 0x32, 0x4E, 0x51, 0x52, 0x61, 0x62, 0x64, 0x7D, 0x65, 0x6C, 0x5D, 0x6F, 0x73, 0x74, 0x29, 0x75,
                0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92, 0x97, 0x98:
                // MARK POP POP_MARK DUP NONE BINPERSID REDUCE APPEND BUILD DICT EMPTY_DICT APPENDS LIST EMPTY_LIST OBJ
                // SETITEM TUPLE EMPTY_TUPLE SETITEMS NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE EMPTY_SET ADDITEMS FROZENSET
                // NEWOBJ_EX NEXT_BUFFER READONLY_BUFFER: no argument.
                push(nil)
            case 0x46, 0x49, 0x4C, 0x50:  // FLOAT INT LONG PERSID: a line
                ok = line() != nil; push(nil)
            case 0x53, 0x56:  // STRING UNICODE: a line holding the value
                guard var s = line() else { ok = false; break }
                if op == 0x53, s.count >= 2, let f = s.first, f == "'" || f == "\"", s.last == f { s = String(s.dropFirst().dropLast()) }
                push(s)
            case 0x4A: ok = int(4) != nil; push(nil)  // BININT
            case 0x4B, 0x80: ok = int(1) != nil; push(nil)  // BININT1 PROTO
            case 0x4D: ok = int(2) != nil; push(nil)  // BININT2
            case 0x47: ok = take(8) != nil; push(nil)  // BINFLOAT
            case 0x95: ok = int(8) != nil  // FRAME
            case 0x54, 0x58, 0x42:  // BINSTRING BINUNICODE BINBYTES: 4-byte length
                guard let n = int(4), let b = take(n) else { ok = false; break }
                push(op == 0x42 || n > 1024 ? nil : String(decoding: b, as: UTF8.self))
            case 0x55, 0x8C, 0x43:  // SHORT_BINSTRING SHORT_BINUNICODE SHORT_BINBYTES: 1-byte length
                guard let n = int(1), let b = take(n) else { ok = false; break }
                push(op == 0x43 ? nil : String(decoding: b, as: UTF8.self))
            case 0x8D, 0x8E, 0x96:  // BINUNICODE8 BINBYTES8 BYTEARRAY8: 8-byte length
                guard let n = int(8), let b = take(n) else { ok = false; break }
                push(op == 0x8D && n <= 1024 ? String(decoding: b, as: UTF8.self) : nil)
            case 0x8A: guard let n = int(1), take(n) != nil else { ok = false; break }; push(nil)  // LONG1
            case 0x8B: guard let n = int(4), take(n) != nil else { ok = false; break }; push(nil)  // LONG4
            case 0x67: guard let l = line() else { ok = false; break }; push(Int(l).flatMap { memo[$0] })  // GET
            case 0x68: guard let k = int(1) else { ok = false; break }; push(memo[k])  // BINGET
            case 0x6A: guard let k = int(4) else { ok = false; break }; push(memo[k])  // LONG_BINGET
            case 0x70: guard let l = line() else { ok = false; break }; if let k = Int(l) { remember(k, last) }  // PUT
            case 0x71: guard let k = int(1) else { ok = false; break }; remember(k, last)  // BINPUT
            case 0x72: guard let k = int(4) else { ok = false; break }; remember(k, last)  // LONG_BINPUT
            case 0x94: remember(nextMemo, last); nextMemo += 1  // MEMOIZE
            case 0x63, 0x69:  // GLOBAL INST: two lines, module and name
                guard let module = line(), let name = line() else { ok = false; break }
                found(offset, op == 0x63 ? "GLOBAL" : "INST", module, name)
                push(nil)
            case 0x93:  // STACK_GLOBAL: module and name are the two values pushed last
                let name = recent.popLast() ?? nil, module = recent.popLast() ?? nil
                found(offset, "STACK_GLOBAL", module, name)
                push(nil)
            case 0x82, 0x83, 0x84:  // EXT1 EXT2 EXT4: a callable from the extension registry
                ok = int(op == 0x82 ? 1 : op == 0x83 ? 2 : 4) != nil
                list(Import(offset: offset, opcode: "EXT", callable: "?", verdict: .suspicious))
                push(nil)
            default:
                r.problem = "unknown opcode 0x\(String(op, radix: 16)) at offset \(offset)"
                r.length = i - start
                return r
            }
            if !ok {
                r.problem = "cut short at offset \(offset)"
                r.length = bytes.count - start
                return r
            }
        }
        r.problem = "no STOP opcode: the pickle is cut short"
        r.length = bytes.count - start
        return r
    }
}
