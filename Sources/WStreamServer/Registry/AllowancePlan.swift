/// How the memory left for models is divided among the models loaded at once.
///
/// The rule: every model gets its minimum working set; what remains is shared in proportion to what each
/// model still lacks for keeping all its weights resident, and no model gets more than that. A model that
/// lacks nothing takes only its minimum's worth of the rest; two models lacking 100 MiB and 300 MiB share
/// 200 spare MiB as 50 and 150. Resident bytes save decoding in proportion to their number whichever model
/// holds them, so splitting by need keeps the fraction streamed about equal across models.
public struct AllowancePlan: Sendable, Equatable {
    /// What one model needs.
    public struct Need: Sendable, Equatable {
        public var id: String
        /// Below this the model cannot run.
        public var minimum: Int
        /// At this every weight is resident; more is never useful.
        public var fullyResident: Int

        /// A model's need; `fullyResident` below `minimum` counts as `minimum`.
        public init(id: String, minimum: Int, fullyResident: Int) {
            self.id = id
            self.minimum = minimum
            self.fullyResident = max(fullyResident, minimum)
        }
    }

    /// Bytes each model may grow the process by, by id.
    public let allowances: [String: Int]

    /// Splits `available` bytes among `needs`.
    /// - Returns: nil when the minimums alone exceed `available`.
    public static func split(_ available: Int, among needs: [Need]) -> AllowancePlan? {
        let minimums = needs.reduce(0) { $0 + $1.minimum }
        guard minimums <= available else { return nil }
        let spare = available - minimums
        let lacking = needs.reduce(0) { $0 + ($1.fullyResident - $1.minimum) }
        var allowances: [String: Int] = [:]
        for need in needs {
            let lack = need.fullyResident - need.minimum
            // spare · lack / lacking without overflow: both factors fit in Double's 53 bits for any real memory size.
            let share = lacking <= spare ? lack : Int(Double(spare) * Double(lack) / Double(max(lacking, 1)))
            allowances[need.id] = need.minimum + min(share, lack)
        }
        return AllowancePlan(allowances: allowances)
    }
}
