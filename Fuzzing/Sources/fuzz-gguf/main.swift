import FuzzDriver
import WStreamFuzzing

LibFuzzerMain.run { try GGUFTarget() }
