import ExportAdapters
import ExportCore
import Foundation
import Testing

// The code Docs/Encoding.md prints, compiled and run here (the test below checks the guide shows it verbatim).
// snippet:begin
/// Encodes one job's rows into a blob being written, chunk by chunk.
func encodeExport(job: ExportJob, columns: [ExportColumn], page: [Membership], writer: any BlobWriter) async throws {
    let encoder = try job.options.format.makeEncoder(columns: columns, csv: CSVOptions(), compressionLevel: 6)
    var chunks = ChunkedEncoder(encoder)
    for row in page {
        try chunks.write(row)  // throws ExportError(.encoding) naming row and column
        while let chunk = chunks.takeChunk() { try await writer.append(chunk) }
    }
    for chunk in try chunks.finish() { try await writer.append(chunk) }
}
// snippet:end

@Suite("Encoding guide example")
struct EncodingGuideExampleTests {
    @Test("the guide's encoding loop writes the whole file, for every format", arguments: [ExportFormat.csv, .csvGzip, .jsonLines])
    func exampleRuns(_ format: ExportFormat) async throws {
        let store = InMemoryBlobStore()
        let key = try BlobKey(validating: "exports/guide.\(format.fileExtension)")
        let job = ExportJob(
            id: try #require(JobID("guide-job")), owner: "ada", recipient: try #require(EmailAddress("ada@example.com")),
            options: ExportOptions(format: format), createdAt: Date(timeIntervalSince1970: 0))
        let rows = (0..<5000).map { CSVEncoderTests.row(id: "m-\($0)", name: "Org \($0 % 7)") }
        let writer = try await store.beginWrite(key: key, contentType: format.contentType)
        try await encodeExport(job: job, columns: [.membershipID, .organizationName], page: rows, writer: writer)
        _ = try await writer.finish()

        var stored: [UInt8] = []
        for try await chunk in try await store.read(key) { stored += chunk }
        var expected = ChunkedEncoder(try format.makeEncoder(columns: [.membershipID, .organizationName]), chunkSize: 1 << 30)
        for row in rows { try expected.write(row) }
        #expect(stored == Array(try expected.finish().joined()))
        #expect(stored.count > 64 * 1024 || format == .csvGzip, "more than one chunk went through the loop")
    }

    @Test("Docs/Encoding.md prints the compiled example verbatim")
    func documentMirrorsCode() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let document = try String(contentsOf: root.appendingPathComponent("Docs/Encoding.md"), encoding: .utf8)
        let begin = try #require(source.range(of: "// snippet:begin\n"))
        let end = try #require(source.range(of: "// snippet:end"))
        let snippet = String(source[begin.upperBound..<end.lowerBound])
        #expect(snippet.contains("job.options.format.makeEncoder"))
        #expect(document.contains("```swift\n" + snippet + "```"), "Docs/Encoding.md does not show the snippet of \(#fileID)")
    }
}
