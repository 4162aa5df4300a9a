import FuzzDriver
import WStreamFuzzing

LibFuzzerMain.run { try ContainerTarget(sharedModels: LibFuzzerMain.sharedModels) }
