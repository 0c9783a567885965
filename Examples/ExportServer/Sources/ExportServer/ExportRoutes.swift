import ExportCore
import ExportHTTPAPI
import Foundation
import HTTPTypes
import Hummingbird

/// Mounts the library's HTTP API on a Hummingbird router. Docs/HTTP-API.md quotes the part between
/// the `docs:` markers verbatim (`Examples/ExportServer/Scripts/check_docs.py` compares them).
///
/// A middleware rather than routes: the handler owns everything under its base path, every method
/// included (it answers 405 with `Allow` for TRACE, QUERY or any other, and 404 problems for unknown paths).
enum ExportRoutes {
    // docs:begin hummingbird-route
    /// Forwards every request under /api/v1 to the export API, with the user the host's authentication
    /// established (`nil` for none: the handler answers 401).
    struct Middleware<Context: RequestContext>: RouterMiddleware {
        let api: ExportAPIHandler
        let authenticate: @Sendable (Request) -> UserID?

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let path = request.uri.path
            guard path == "/api/v1" || path.hasPrefix("/api/v1/") else { return try await next(request, context) }
            return await respond(to: request, path: path, api: api, principal: authenticate(request))
        }
    }

    static func respond(to request: Request, path: String, api: ExportAPIHandler, principal: UserID?) async -> Response {
        // Read at most maxBodyBytes + 1 bytes: an oversized body is answered 413 without being buffered whole.
        var body: [UInt8] = []
        let limit = api.configuration.maxBodyBytes + 1
        do {
            for try await chunk in request.body {
                body.append(contentsOf: chunk.readableBytesView.prefix(limit - body.count))
                if body.count >= limit { break }
            }
        } catch {
            return Response(status: .badRequest)
        }
        let answer = await api.handle(
            APIRequest(
                method: request.method.rawValue, path: path,
                query: URLComponents(string: request.uri.description)?.queryItems ?? [],
                headers: request.headers.map { ($0.name.rawName, $0.value) }, body: body,
                principal: principal))
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
        }
        switch answer.body {
        case .bytes(let bytes):
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let chunks, let length):
            return Response(
                status: .init(code: answer.status), headers: headers,
                body: .init(contentLength: Int(length)) { writer in
                    for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        }
    }
    // docs:end hummingbird-route
}
