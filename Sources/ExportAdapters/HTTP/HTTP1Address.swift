import ExportCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One address to connect to, copied out of `getaddrinfo`'s list.
struct HTTP1Address: Sendable {
    var family: Int32
    var socketType: Int32
    var socketProtocol: Int32
    private var storage = sockaddr_storage()
    private var length: socklen_t = 0

    init(family: Int32, socketType: Int32, socketProtocol: Int32, address: UnsafePointer<sockaddr>, length: socklen_t) {
        self.family = family
        self.socketType = socketType
        self.socketProtocol = socketProtocol
        self.length = min(length, socklen_t(MemoryLayout<sockaddr_storage>.size))
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(self.length)))
        }
    }

    func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafeBytes(of: storage) { bytes in body(bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }

    /// The addresses of `host:port`. A numeric address is taken as it is; a name is looked up on a
    /// thread of its own, since `getaddrinfo` cannot be given a deadline: the wait for it ends at the
    /// exchange's deadline or its cancellation, and a lookup still running then finishes unheard.
    static func resolve(
        host: String, port: Int, deadline: ContinuousClock.Instant, cancel: HTTP1Cancellation,
        lookup: @escaping @Sendable (String, Int) -> Result<[HTTP1Address], HTTP1Failure>
    ) throws(HTTP1Failure) -> [HTTP1Address] {
        if case .success(let numeric) = addresses(host: host, port: port, flags: AI_NUMERICHOST), !numeric.isEmpty {
            return numeric
        }
        // A resolver that hangs leaves its threads behind: past this many, fail instead of adding more.
        guard runningLookups.add(1, ordering: .relaxed).newValue <= maximumRunningLookups else {
            runningLookups.subtract(1, ordering: .relaxed)
            throw .connect("cannot resolve \(host): \(maximumRunningLookups) name lookups are still running")
        }
        let answer = Mutex<Result<[HTTP1Address], HTTP1Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let result = lookup(host, port)
            answer.withLock { $0 = result }
            runningLookups.subtract(1, ordering: .relaxed)
            done.signal()
        }
        thread.start()
        while true {
            if cancel.isCancelled { throw .cancelled }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw .timedOut }
            // Short slices, so that a cancellation is seen within one.
            let slice = min(left, .milliseconds(50))
            let (seconds, attoseconds) = slice.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            if done.wait(timeout: .now() + .nanoseconds(max(1, nanoseconds))) == .success { break }
        }
        guard let result = answer.withLock({ $0 }) else { throw .connect("the lookup of \(host) gave no answer") }
        return try result.get()
    }

    /// Name lookups running on their threads, across the process.
    static let runningLookups = Atomic<Int>(0)
    static let maximumRunningLookups = 64

    /// `getaddrinfo`, blocking.
    static func lookup(host: String, port: Int) -> Result<[HTTP1Address], HTTP1Failure> {
        addresses(host: host, port: port, flags: 0)
    }

    private static func addresses(host: String, port: Int, flags: Int32) -> Result<[HTTP1Address], HTTP1Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV | flags
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(.connect("cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [HTTP1Address] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            guard let socketAddress = address.pointee.ai_addr else { continue }
            addresses.append(HTTP1Address(
                family: address.pointee.ai_family, socketType: address.pointee.ai_socktype,
                socketProtocol: address.pointee.ai_protocol, address: socketAddress, length: address.pointee.ai_addrlen))
        }
        return .success(addresses)
    }
}
