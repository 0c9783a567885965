import Foundation

/// What a document prints and what the tests compile, for tests that hold the two equal: the
/// ```` ```swift ```` blocks of a Markdown file, and the regions of a test source between
/// `// <name> block begins` and `// <name> block ends` (indentation removed). A test compares the
/// lists, so editing either side, or adding a block to the document without code behind it, fails.
enum DocBlocks {
    /// The package root (this file is `Tests/ExportAdaptersTests/Docs/DocBlocks.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The Swift code blocks of a Markdown file, in order.
    ///
    /// - Parameters:
    ///   - path: The file's path from the package root, such as `Docs/Testing-With-Fakes.md`.
    /// - Returns: Each block's lines joined by newlines.
    /// - Throws: When the file cannot be read.
    static func swiftBlocks(_ path: String) throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(dedented(current!))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// The marked regions of a source file, in order.
    ///
    /// - Parameters:
    ///   - name: The marker's name, such as `Testing-With-Fakes`.
    ///   - source: The source file, `#filePath` of the caller.
    /// - Returns: Each region's lines, dedented, joined by newlines.
    /// - Throws: When the file cannot be read.
    static func regions(_ name: String, in source: String) throws -> [String] {
        let text = try String(contentsOf: URL(fileURLWithPath: source), encoding: .utf8)
        var regions: [String] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "// \(name) block begins" {
                current = []
            } else if trimmed == "// \(name) block ends", let lines = current {
                regions.append(dedented(lines))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return regions
    }

    private static func dedented(_ lines: [String]) -> String {
        let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { $0.count >= indent ? String($0.dropFirst(indent)) : $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
    }
}
