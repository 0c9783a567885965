// The umbrella module: every adapter family at once, for hosts and tests that want them all.
// A host that needs one family imports that family's module alone (ExportFileSystem, ExportAWS,
// ExportInMemory) and links nothing of the others.
@_exported import ExportAWS
@_exported import ExportFileSystem
@_exported import ExportInMemory
