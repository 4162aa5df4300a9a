import FuzzDriver
import WStreamFuzzing

LibFuzzerMain.run { FrameTarget() }
