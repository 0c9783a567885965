import HTTPTypes
import Hummingbird

/// Part of the DEMO SIGN-IN: a 401 from the export API carries a `Basic` challenge, so curl and a browser
/// that opens an API address ask for the demo credentials. Requests from the web page's script
/// (`X-Requested-With` set, the convention Spring Security and Rails use) get no challenge: the page has
/// its own sign-in form and the browser must not pop up its dialog over it.
struct DemoChallengeMiddleware<Context: RequestContext>: RouterMiddleware {
    static var realm: String { "Basic realm=\"MembershipExport demo\", charset=\"UTF-8\"" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard response.status == .unauthorized else { return response }
        response.headers[.wwwAuthenticate] = nil
        if request.headers[HTTPField.Name("X-Requested-With")!] == nil {
            response.headers[.wwwAuthenticate] = Self.realm
        }
        return response
    }
}
