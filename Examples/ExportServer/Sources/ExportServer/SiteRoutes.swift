import ExportCore
import ExportHTTPAPI
import Foundation
import HTTPTypes
import Hummingbird
import Prometheus

/// Everything the host serves besides the export API: the web page, `/metrics`, `/health`, and the
/// download links of e-mails addressed to `/downloads/…` (the demo's default link address).
struct SiteRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let jobs: any JobStore

    /// The page's files, read once from the bundle.
    static let assets: [String: (type: String, bytes: [UInt8])] = {
        var assets: [String: (type: String, bytes: [UInt8])] = [:]
        for (name, type) in [("index.html", "text/html; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8")] {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Public"),
                let data = try? Data(contentsOf: url)
            else { continue }
            assets[name] = (type, Array(data))
        }
        return assets
    }()

    func mount(on router: Router<BasicRequestContext>, api: ExportAPIHandler) {
        for (path, name) in [("/", "index.html"), ("/app.js", "app.js"), ("/style.css", "style.css")] {
            router.get(RouterPath(stringLiteral: path)) { _, _ in Self.asset(name) }
            router.head(RouterPath(stringLiteral: path)) { _, _ in Self.asset(name) }
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/health") { _, _ in
            // Healthy when the job store answers; a store that does not answers 503.
            do {
                _ = try await jobs.list(owner: UserID("health-check"), after: nil, limit: 1)
                return Self.json(.ok, #"{"status":"ok"}"#)
            } catch {
                return Self.json(.serviceUnavailable, #"{"status":"unavailable"}"#)
            }
        }
        // Links minted with the demo's default address, http://localhost:8080/downloads/…, are the API's
        // signed-download route under another prefix: they authenticate by their signature alone.
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/downloads/*", method: method) { request, _ in
                await ExportRoutes.respond(to: request, path: Backend.basePath + request.uri.path, api: api, principal: nil)
            }
        }
    }

    static func asset(_ name: String) -> Response {
        guard let asset = assets[name] else { return Response(status: .notFound) }
        return Response(
            status: .ok,
            headers: [.contentType: asset.type, .cacheControl: "no-cache", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
