import FuzzDriver
import WStreamFuzzing

LibFuzzerMain.run { ChatTemplateTarget() }
