#ifndef WSTREAM_CZSTD_SHIM_H
#define WSTREAM_CZSTD_SHIM_H
#include <zstd.h>
#endif
