import ExportAdapters
import ExportCore
import Foundation

// The whole pipeline on the in-memory adapters: a request, a worker, the stored CSV and the e-mail.
let memberships = (1...5).map { index in
    Membership(
        membershipID: "m\(index)", userID: "ada", organizationID: "org-\(index)", organizationName: "Guild \(index)",
        plan: index.isMultiple(of: 2) ? "pro" : "free", role: "member", status: "active",
        startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 86_400),
        amount: ExactDecimal(units: Int64(index) * 995, scale: 2), currency: "EUR")
}
let jobs = InMemoryJobStore()
let queue = InMemoryQueue()
let blobs = InMemoryBlobStore()
let mail = InMemoryNotifier()
let service = ExportService(jobStore: jobs, queue: queue, blobStore: blobs)
let worker = ExportWorker(jobStore: jobs, queue: queue, blobStore: blobs, notifier: mail, source: InMemoryMembershipSource(memberships))

let ticket = try await service.request(ExportRequest(owner: "ada", recipient: "ada@example.com"))
print("accepted job \(ticket.jobID) (\(ticket.state.rawValue))")
await worker.processAvailable()

let job = try await service.status(of: ticket.jobID, requester: "ada")
print("job is \(job.state.rawValue): \(job.result?.rows ?? 0) rows, \(job.result?.bytes ?? 0) bytes, sha256 \(job.result?.sha256 ?? "-")")
if let key = job.result?.blobKey, let bytes = await blobs.contents(of: key) {
    print(String(decoding: bytes, as: UTF8.self))
}
for notification in await mail.sent {
    if case .ready(let details) = notification.content {
        print("e-mailed \(notification.recipient): \(details.link) (expires \(details.expiresAt))")
    }
}
