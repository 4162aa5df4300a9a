#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the writer makes, behind a protocol so tests can inject short writes and failures.
///
/// Each mirrors its POSIX namesake: a negative result means failure with `errno` set.
protocol FileSystemCalls: Sendable {
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, offset: Int) -> Int
    func fsync(_ descriptor: Int32) -> Int32
    func close(_ descriptor: Int32) -> Int32
    func rename(_ from: String, _ to: String) -> Int32
    func unlink(_ path: String) -> Int32
}

/// The real system calls.
struct PosixFileSystemCalls: FileSystemCalls {
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.open(path, flags, mode)
        #else
        Darwin.open(path, flags, mode)
        #endif
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, bytes.baseAddress, bytes.count)
        #else
        Darwin.write(descriptor, bytes.baseAddress, bytes.count)
        #endif
    }

    func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, offset: Int) -> Int {
        #if canImport(Glibc)
        Glibc.pwrite(descriptor, bytes.baseAddress, bytes.count, off_t(offset))
        #else
        Darwin.pwrite(descriptor, bytes.baseAddress, bytes.count, off_t(offset))
        #endif
    }

    func fsync(_ descriptor: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.fsync(descriptor)
        #else
        Darwin.fsync(descriptor)
        #endif
    }

    func close(_ descriptor: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(descriptor)
        #else
        Darwin.close(descriptor)
        #endif
    }

    func rename(_ from: String, _ to: String) -> Int32 {
        #if canImport(Glibc)
        Glibc.rename(from, to)
        #else
        Darwin.rename(from, to)
        #endif
    }

    func unlink(_ path: String) -> Int32 {
        #if canImport(Glibc)
        Glibc.unlink(path)
        #else
        Darwin.unlink(path)
        #endif
    }
}
