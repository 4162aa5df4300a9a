/// Which product followed which, so that a pool's idle workers can start reading the next product's weights
/// before it is handed over.
///
/// A forward pass runs the same products in the same order every token, so the product that followed a matrix
/// last time is the one that will follow it now. Between two products the caller works alone (norms, the
/// convolutions, quantising the next input; attention's heads run on the pool, and after its share of them the worker
/// resumes) and the worker would wait with the memory bus idle; told where its part of the next product starts, it
/// reads up to `leadBytes` of it into its L2 meanwhile (`ComputePool`). A wrong guess (the first token, a streamed
/// unit that another one replaced in its slot) only costs reads of lines nobody uses.
final class ProductSchedule {
    /// For each part of a product but the first, the bytes its thread reads first.
    typealias Leads = [UnsafeRawBufferPointer]

    /// How much of its next part a worker reads ahead: half its L2, so the lines are still there when it needs
    /// them. On an Intel Xeon (2 MiB L2) 1 MiB made decode passes 0.8–1.7 % faster, 512 KiB less consistently.
    static let leadBytes = CacheSizes.secondLevel / 2

    /// Products remembered before the table starts over: a model's products, many times over. Streamed units
    /// mapped at new addresses would otherwise add keys without end.
    static let capacity = 4096

    private var following: [UnsafeRawPointer: Leads] = [:]
    private var previous: UnsafeRawPointer?

    /// Products whose successor is remembered.
    var count: Int { following.count }

    /// Records that the product keyed by `key` (its first matrix's address), whose parts start with `leads`,
    /// follows the last one recorded, and returns the leads of the product that followed `key` last time (none
    /// when nothing did yet).
    func record(_ key: UnsafeRawPointer, leads: Leads) -> Leads {
        if let previous {
            if following.count >= Self.capacity && following[previous] == nil { following.removeAll(keepingCapacity: true) }
            following[previous] = leads
        }
        previous = key
        return following[key] ?? []
    }
}
