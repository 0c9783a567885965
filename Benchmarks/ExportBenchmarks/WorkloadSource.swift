import ExportCore
import Foundation

/// The benchmark workload as a ``MembershipSource``: the rows of ``Workload`` for one owner, in pages,
/// computed from the row number as the `csv` scenario computes them. Only `user_id` differs from the
/// `csv` scenario's rows: it is the owner's id on every row, since the worker refuses rows of another
/// user. Rows past `rows` do not exist; the cursor is the last row number.
struct WorkloadSource: MembershipSource {
    let rows: Int

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        let start = cursor.flatMap { Int($0.token) } ?? 0
        let end = min(rows, start + max(1, limit))
        guard start < end else { return Page(items: [], next: nil) }
        let workload = Workload()
        var items: [Membership] = []
        items.reserveCapacity(end - start)
        for number in (start + 1)...end { items.append(workload.membership(number, owner: owner)) }
        return Page(items: items, next: end < rows ? PageCursor(String(end)) : nil)
    }
}
