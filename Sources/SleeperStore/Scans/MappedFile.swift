#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory: a scan of a multi-gigabyte checkpoint touches the pages
/// it reads (the headers, the pickles) and the kernel pages the rest in and out for the hash,
/// instead of the process holding a copy.
public final class MappedFile {
    public let path: String
    public let size: Int
    private let base: UnsafeMutableRawPointer?

    public init(_ path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StoreError.invalidInput("\(path) cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw StoreError.invalidInput("\(path) is not a regular file") }
        size = Int(info.st_size)
        if size == 0 { base = nil; return }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else { throw StoreError.invalidInput("\(path) cannot be mapped (\(String(cString: strerror(errno))))") }
        base = mapped
    }

    deinit { if let base { munmap(base, size) } }

    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: size))
    }
}
