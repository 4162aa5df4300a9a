#if canImport(Glibc)
import Glibc
#endif

/// A finished HTTP response.
public struct HTTPResult: Sendable, CustomStringConvertible {
    public let status: Int
    /// Header names in lower case.
    public let headers: [String: String]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public var description: String { "HTTP \(status) \(headers)\n\(text.prefix(2000))" }
}

/// Why a request could not be made or read.
public struct HTTPClientError: Error, CustomStringConvertible {
    public let description: String
}

/// A small blocking HTTP/1.1 client for servers on this machine's loopback, for tests and the load tool:
/// one connection per request, `Content-Length` or chunked bodies, and the body handed over piece by piece
/// as it arrives so that streamed responses can be timed or abandoned midway.
public enum LoopbackHTTPClient {
    /// Sends one request to `127.0.0.1:port` and reads the whole response.
    /// - Parameters:
    ///   - timeout: seconds any one read or write may block before the request fails.
    /// - Throws: `HTTPClientError` when the connection fails, times out or the response is malformed.
    public static func send(
        port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil, timeout: Double = 120
    ) throws -> HTTPResult {
        try stream(port: port, method: method, path: path, headers: headers, body: body, timeout: timeout) { _ in true }
    }

    /// Sends one request and passes each piece of the (de-chunked) body to `onBody` as it arrives.
    /// - Parameter onBody: return false to close the connection at once (a client going away).
    /// - Returns: the response with the body received up to then.
    public static func stream(
        port: Int, method: String = "POST", path: String, headers: [String: String] = [:], body: String? = nil, timeout: Double = 120,
        onBody: ([UInt8]) -> Bool
    ) throws -> HTTPResult {
        let socket = try connect(port: port, timeout: timeout)
        defer { close(socket) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        let payload = Array((body ?? "").utf8)
        if body != nil { request += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        try writeAll(socket, Array((request + "\r\n").utf8) + payload)

        var reader = SocketReader(socket: socket)
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPClientError(description: "bad status line '\(statusLine)'") }
        var responseHeaders: [String: String] = [:]
        while true {
            let line = try reader.line()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            responseHeaders[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
        }
        var received: [UInt8] = []
        func deliver(_ piece: [UInt8]) -> Bool {
            received += piece
            return onBody(piece)
        }
        if responseHeaders["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let sizeLine = try reader.line()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw HTTPClientError(description: "bad chunk size '\(sizeLine)'") }
                if size == 0 { break }
                let piece = try reader.bytes(size)
                _ = try reader.line()
                if !deliver(piece) { break }
            }
        } else if let length = responseHeaders["content-length"].flatMap({ Int($0) }) {
            if length > 0 { _ = deliver(try reader.bytes(length)) }
        } else {
            while let piece = try reader.available(), deliver(piece) {}
        }
        return HTTPResult(status: status, headers: responseHeaders, body: received)
    }

    private static func connect(port: Int, timeout: Double) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPClientError(description: "socket: errno \(errno)") }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(socket)
            throw HTTPClientError(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(code)))")
        }
        return socket
    }

    private static func writeAll(_ socket: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw HTTPClientError(description: "write: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
}

/// Buffered reads from a socket.
private struct SocketReader {
    let socket: Int32
    private var buffer: [UInt8] = []

    init(socket: Int32) {
        self.socket = socket
    }

    /// Reads more into the buffer; false at the end of the stream.
    private mutating func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : String(cString: strerror(errno))
                throw HTTPClientError(description: "read: \(reason)")
            }
            buffer += chunk[0..<count]
            return count > 0
        }
    }

    /// One line without its CRLF.
    mutating func line() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: 10) {
                let line = buffer[..<end].last == 13 ? buffer[..<(end - 1)] : buffer[..<end]
                defer { buffer.removeFirst(end + 1) }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { throw HTTPClientError(description: "connection closed in the middle of a line") }
        }
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw HTTPClientError(description: "connection closed after \(buffer.count) of \(count) bytes") }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Whatever is buffered or arrives next; nil at the end of the stream.
    mutating func available() throws -> [UInt8]? {
        if buffer.isEmpty, try !fill() { return nil }
        defer { buffer = [] }
        return buffer
    }
}
