import ExportCore

/// Throws a ``ConformanceFailure`` when `condition` is false.
func check(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    fileID: String = #fileID,
    line: Int = #line
) throws(ConformanceFailure) {
    if !condition { throw ConformanceFailure(message(), location: "\(fileID):\(line)") }
}

/// Unwraps `value`, or throws a ``ConformanceFailure``.
func require<T>(
    _ value: T?,
    _ message: @autoclosure () -> String,
    fileID: String = #fileID,
    line: Int = #line
) throws(ConformanceFailure) -> T {
    guard let value else { throw ConformanceFailure(message(), location: "\(fileID):\(line)") }
    return value
}

/// Runs `body`, which must throw an `ExportError` with one of `codes`; returns that error.
@discardableResult
func expectError<T>(
    _ codes: Set<ExportError.Code>,
    _ what: String,
    fileID: String = #fileID,
    line: Int = #line,
    _ body: () async throws -> T
) async throws -> ExportError {
    let location = "\(fileID):\(line)"
    do {
        _ = try await body()
    } catch let error as ExportError {
        guard codes.contains(error.code) else {
            throw ConformanceFailure("\(what): expected \(codes.map(\.description).sorted()), got \(error)", location: location)
        }
        return error
    } catch {
        throw ConformanceFailure("\(what): expected an ExportError \(codes.map(\.description).sorted()), got \(error)", location: location)
    }
    throw ConformanceFailure("\(what): expected an error \(codes.map(\.description).sorted()), but it succeeded", location: location)
}

/// Runs one named case of a suite, prefixing any failure's message with the case's name.
func runCase(_ suite: String, _ name: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as ConformanceFailure {
        throw ConformanceFailure("\(suite) › \(name): \(failure.description)", location: failure.location)
    } catch {
        throw ConformanceFailure("\(suite) › \(name): unexpected error \(error)", location: suite)
    }
}

/// A short random token, so that runs against a shared real service do not collide.
func runToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
}
