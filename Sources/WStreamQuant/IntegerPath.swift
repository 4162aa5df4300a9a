/// Which integer kernels the inputs of a product take.
///
/// The row kernels and the prefill panel kernel (`VNNIPanelKernel`) sum a row's products in different orders, so
/// an input's result depends on which of the two it takes, to the last bits of float rounding. Within either one,
/// it never depends on the other inputs of the product. A caller that must get the same result for an input
/// whether it is computed alone or beside others (a generation in a batch) names the path instead of leaving it
/// to the count.
public enum IntegerPath: Sendable, Equatable {
    /// The panel kernel from 8 inputs of a pass on, the row kernels below: the fastest for any count.
    case automatic
    /// The row kernels for every count (what one input alone takes).
    case rows
    /// The panel kernel for every count, where the build has one (AVX-512 VNNI); the row kernels otherwise.
    case panels

    /// Inputs of a pass from which `.automatic` takes the panel kernel: its tile (`VNNIPanelKernel.inputsPerTile`).
    static let automaticPanelInputs = 8
}
