import ClashingHostTypes
import ExportAWS
import ExportAdapters
import ExportConformance
import ExportCore
import ExportFileSystem
import ExportHTTPAPI
import ExportInMemory
import Testing

// This file compiles only while no library module declares a public HTTPRequest, HTTPResponse, SHA256
// or HMAC: with one, each unqualified use below is ambiguous (or silently the wrong type).
@Suite("Public names next to a host's imports")
struct NameClashTests {
    @Test("A host's HTTPRequest, HTTPResponse, SHA256 and HMAC stay unambiguous beside every library module")
    func hostNamesWin() {
        let request = HTTPRequest()
        let response = HTTPResponse()
        _ = HMAC()
        #expect(SHA256.name == "host SHA256")
        #expect(type(of: request) == ClashingHostTypes.HTTPRequest.self)
        #expect(type(of: response) == ClashingHostTypes.HTTPResponse.self)
        // The library's own names for the same ideas.
        #expect(SHA256Hasher.hash(Array("abc".utf8)).hexString.hasPrefix("ba7816bf"))
        _ = TransportRequest.self
        _ = TransportResponse.self
    }
}
