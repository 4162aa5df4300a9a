// libFuzzer's entry for programs that have a main of their own (clang's compiler-rt, FuzzerInterface.h).
// SwiftPM links every executable with its Swift entry point as `main`, which replaces libFuzzer's own main, so the
// fuzz targets call this instead.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
