import ExportAdapters
import ExportCore
import Foundation

// The example executable: see `DemoOptions.usage`, or run with --help.
if CommandLine.arguments.dropFirst().first == "schedule" {
    do {
        try await ScheduleMode.parse(Array(CommandLine.arguments.dropFirst(2))).run()
        exit(0)
    } catch let error as DemoError where error.description == "help" {
        print(ScheduleMode.usage)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(error is DemoError ? 2 : 1)
    }
}

let options: DemoOptions
do {
    options = try DemoOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch let error as DemoError {
    if error.description == "help" {
        print(DemoOptions.usage)
        exit(0)
    }
    FileHandle.standardError.write(Data("error: \(error)\n\n\(DemoOptions.usage)\n".utf8))
    exit(2)
}

do {
    let backend = try await DemoBackend.make(options)
    if options.reconcileMode {
        try await ReconcileMode(options: options, backend: backend).run()
    } else if options.workerMode {
        try await WorkerMode(options: options, backend: backend).run()
    } else {
        try await DemoRun(options: options, backend: backend).run()
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
