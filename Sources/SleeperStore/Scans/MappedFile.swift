import Foundation

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

    /// `within`: directories the file must be in. It is checked on the file as opened (its
    /// descriptor's real path), never on the path before opening: a link swapped between a check
    /// and an open once let 5 of 3,000 requests read a file outside. A FIFO or a device is
    /// refused without waiting on it (opened non-blocking; one FIFO held a request for 20 s).
    public init(_ path: String, within roots: [String]? = nil) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (roots == nil ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            if errno == ELOOP { throw StoreError.invalidInput("\(path) is a symbolic link, which a scan by path does not follow") }
            throw StoreError.invalidInput("\(path) cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw StoreError.invalidInput("\(path) is not a regular file") }
        if let roots {
            let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            guard roots.contains(where: { real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
                throw StoreError.pathNotAllowed("'\(path)' is not under a directory this server may scan")
            }
        }
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
