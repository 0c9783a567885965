/// A growable byte buffer that encoders append to: one allocation, reused for a whole export.
///
/// It is a value type with copy-on-write, like `[UInt8]`, but built for the encoders' hot path: an
/// encoder reserves room for a whole field once and then stores bytes through a pointer, with no
/// per-byte capacity or uniqueness checks. Memory is freed when the last copy goes away.
public struct OutputBuffer {
    final class Storage {
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit { base.deallocate() }
    }

    private(set) var storage: Storage
    /// `storage.base` and `storage.capacity`, kept here so the hot path does not chase the reference.
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    /// How many bytes fit before the buffer has to grow.
    public private(set) var capacity: Int
    /// The number of bytes written.
    public internal(set) var count: Int {
        @inlinable get { written }
        set { written = newValue }
    }
    /// Storage of ``count``, which inlinable code in other modules (``CSVRecordWriter``) advances.
    @usableFromInline var written: Int

    /// Creates an empty buffer.
    ///
    /// - Parameters:
    ///   - minimumCapacity: How many bytes to allocate up front; the buffer grows as needed.
    public init(minimumCapacity: Int = 4096) {
        storage = Storage(capacity: max(64, minimumCapacity))
        base = storage.base
        capacity = storage.capacity
        written = 0
    }

    /// Whether no byte has been written.
    public var isEmpty: Bool { count == 0 }

    /// Makes room for `additional` more bytes and returns where the next byte goes.
    ///
    /// The caller stores at most `additional` bytes from the returned pointer and then advances
    /// ``count`` by the number stored.
    @inline(__always)
    mutating func reserve(_ additional: Int) -> UnsafeMutablePointer<UInt8> {
        if _fastPath(isKnownUniquelyReferenced(&storage) && capacity - count >= additional) {
            return base + count
        }
        return grow(additional)
    }

    /// Makes sure no other copy shares the storage, so the encoders can then use
    /// ``reserveAssumingUnique(_:)`` for the rest of a row without checking again per field.
    @usableFromInline
    mutating func makeUnique() {
        if _slowPath(!isKnownUniquelyReferenced(&storage)) { _ = grow(0) }
    }

    /// ``reserve(_:)`` without the copy-on-write check: only after ``makeUnique()`` and while no copy of
    /// the buffer can have been made since (within one encoder call that holds it `inout`).
    @inlinable @inline(__always)
    mutating func reserveAssumingUnique(_ additional: Int) -> UnsafeMutablePointer<UInt8> {
        if _fastPath(capacity - count >= additional) { return base + count }
        return grow(additional)
    }

    /// ``append(_:)-(UInt8)`` without the copy-on-write check (see ``reserveAssumingUnique(_:)``).
    @inlinable @inline(__always)
    mutating func appendAssumingUnique(_ byte: UInt8) {
        reserveAssumingUnique(1).initialize(to: byte)
        written &+= 1
    }

    /// ``append(_:)-(UnsafeBufferPointer<UInt8>)`` without the copy-on-write check.
    @inline(__always)
    mutating func appendAssumingUnique(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        CSVScanner.copy(source, count: bytes.count, to: reserveAssumingUnique(bytes.count))
        count &+= bytes.count
    }

    /// Appends a CSV field in quotes, with each quote doubled and, if `apostrophe`, the formula guard
    /// `'` after the opening quote (no copy-on-write check, see ``reserveAssumingUnique(_:)``): the one
    /// quoting loop of ``CSVEncoder`` and ``CSVRecordWriter``.
    ///
    /// - Returns: `false`, with nothing appended, when `bytes` hold a NUL (no CSV reader keeps one).
    @usableFromInline @inline(__always)
    mutating func appendQuotedAssumingUnique(_ bytes: UnsafeBufferPointer<UInt8>, apostrophe: Bool) -> Bool {
        let out = reserveAssumingUnique(bytes.count * 2 + 3)
        var length = 0
        out[length] = 0x22
        length &+= 1
        if apostrophe {
            out[length] = UInt8(ascii: "'")
            length &+= 1
        }
        for byte in bytes {
            if byte <= 0x22 {
                if byte == 0 { return false }
                if byte == 0x22 {
                    out[length] = 0x22
                    length &+= 1
                }
            }
            out[length] = byte
            length &+= 1
        }
        out[length] = 0x22
        length &+= 1
        written &+= length
        return true
    }

    @usableFromInline @inline(never)
    mutating func grow(_ additional: Int) -> UnsafeMutablePointer<UInt8> {
        let needed = count + additional
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let fresh = Storage(capacity: newCapacity)
        fresh.base.update(from: base, count: count)
        storage = fresh
        base = fresh.base
        capacity = newCapacity
        return base + count
    }

    /// Appends one byte.
    ///
    /// - Parameters:
    ///   - byte: The byte.
    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1).initialize(to: byte)
        count &+= 1
    }

    /// Appends bytes from memory.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to copy.
    @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
        count &+= bytes.count
    }

    /// Appends a sequence of bytes, copying in one go when it is contiguous.
    ///
    /// - Parameters:
    ///   - bytes: The bytes, such as an array or a string's `utf8` view.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        let copied: Void? = bytes.withContiguousStorageIfAvailable { append($0) }
        if copied == nil {
            for byte in bytes { append(byte) }
        }
    }

    /// Appends the UTF-8 bytes of a string.
    ///
    /// - Parameters:
    ///   - text: The text.
    public mutating func append(utf8 text: String) {
        append(contentsOf: text.utf8)
    }

    /// Calls `body` with the written bytes.
    ///
    /// - Parameters:
    ///   - body: A closure that reads the bytes; the pointer must not escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withExtendedLifetime(storage) { () throws(Failure) -> Result in
            try body(UnsafeBufferPointer(start: base, count: count))
        }
    }

    /// A copy of the bytes in `range`.
    ///
    /// - Parameters:
    ///   - range: Offsets within `0..<count`; clamped to it.
    /// - Returns: The bytes.
    public func bytes(in range: Range<Int>) -> [UInt8] {
        let range = range.clamped(to: 0..<count)
        return withUnsafeBytes { Array(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// A copy of all written bytes.
    public var bytes: [UInt8] { bytes(in: 0..<count) }

    /// Discards the first `n` bytes, moving the rest to the front.
    ///
    /// - Parameters:
    ///   - n: How many bytes to drop; clamped to ``count``.
    public mutating func removeFirst(_ n: Int) {
        let n = min(max(0, n), count)
        guard n > 0 else { return }
        let base = reserve(0) - count
        UnsafeMutableRawPointer(base).copyMemory(from: base + n, byteCount: count - n)
        count -= n
    }

    /// Discards every byte, keeping the allocation.
    public mutating func removeAll() {
        _ = reserve(0)
        count = 0
    }
}
