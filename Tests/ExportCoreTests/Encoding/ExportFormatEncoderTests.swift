import ExportCore
import Testing

@Suite("Formats and their encoders")
struct ExportFormatEncoderTests {
    @Test("every format is supported, with its content type and extension", arguments: ExportFormat.all)
    func supported(_ format: ExportFormat) throws {
        #expect(format.isSupported)
        _ = try format.makeEncoder(columns: ExportColumn.standard)
        let expected: [String: (String, String)] = [
            "csv": ("text/csv; charset=utf-8", "csv"), "csv.gz": ("application/gzip", "csv.gz"), "jsonl": ("application/jsonl", "jsonl"),
        ]
        #expect(expected[format.identifier]?.0 == format.contentType)
        #expect(expected[format.identifier]?.1 == format.fileExtension)
    }

    @Test("the encoder types", arguments: [(ExportFormat.csv, "CSVEncoder"), (.csvGzip, "GzipEncoder<CSVEncoder>"), (.jsonLines, "JSONLinesEncoder")])
    func types(_ format: ExportFormat, _ name: String) throws {
        #expect(String(describing: type(of: try format.makeEncoder(columns: [.membershipID]))) == name)
    }

    @Test("gzip levels outside 0…9 are a configuration error", arguments: [-1, 10, 100])
    func badLevel(_ level: Int) {
        let error = #expect(throws: ExportError.self) {
            try ExportFormat.csvGzip.makeEncoder(columns: [.membershipID], compressionLevel: level)
        }
        #expect(error?.code == .configuration)
    }
}
