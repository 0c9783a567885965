import Foundation

/// One exported row: a user's membership of an organization.
///
/// The standard fields cover what every membership system has; anything else the host wants in the
/// file goes into ``attributes`` and is selected by name with ``ExportColumn/attribute(_:)``, so the
/// column order is the order the host lists them in, never dictionary order.
public struct Membership: Hashable, Sendable, Codable {
    /// The host's identifier of this membership; also the keyset cursor's tie-breaker.
    public var membershipID: String
    /// The member.
    public var userID: UserID
    /// The organization's identifier.
    public var organizationID: String
    /// The organization's display name.
    public var organizationName: String
    /// The plan or tier, such as `pro`.
    public var plan: String
    /// The member's role in the organization, such as `admin`.
    public var role: String
    /// The membership status, such as `active`, `cancelled` or `past_due`.
    public var status: String
    /// When the membership started.
    public var startedAt: Date
    /// When the membership ended, if it has.
    public var endedAt: Date?
    /// When the membership renews next, if it does.
    public var renewsAt: Date?
    /// The recurring amount, exact.
    public var amount: ExactDecimal?
    /// The ISO 4217 currency of ``amount``, such as `EUR`.
    public var currency: String?
    /// Host-defined extra attributes by column name.
    public var attributes: [String: String]

    /// Creates a membership row.
    ///
    /// - Parameters:
    ///   - membershipID: The host's identifier of this membership.
    ///   - userID: The member.
    ///   - organizationID: The organization's identifier.
    ///   - organizationName: The organization's display name.
    ///   - plan: The plan or tier.
    ///   - role: The member's role.
    ///   - status: The membership status.
    ///   - startedAt: When the membership started.
    ///   - endedAt: When it ended, if it has.
    ///   - renewsAt: When it renews next, if it does.
    ///   - amount: The recurring amount.
    ///   - currency: The currency of `amount`.
    ///   - attributes: Host-defined extra attributes by column name.
    public init(
        membershipID: String,
        userID: UserID,
        organizationID: String,
        organizationName: String,
        plan: String,
        role: String,
        status: String,
        startedAt: Date,
        endedAt: Date? = nil,
        renewsAt: Date? = nil,
        amount: ExactDecimal? = nil,
        currency: String? = nil,
        attributes: [String: String] = [:]
    ) {
        self.membershipID = membershipID
        self.userID = userID
        self.organizationID = organizationID
        self.organizationName = organizationName
        self.plan = plan
        self.role = role
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.renewsAt = renewsAt
        self.amount = amount
        self.currency = currency
        self.attributes = attributes
    }
}
