#ifndef MEMBERSHIP_EXPORT_FUZZ_ZLIB_SHIM_H
#define MEMBERSHIP_EXPORT_FUZZ_ZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 is a macro in zlib.h, which Swift cannot call; this wrapper passes the version and
/// struct size the macro would. The fuzz targets inflate with it, independently of the library's
/// deflate code (the library's own CZlib module is not a product, so it is not importable here).
static inline int fuzz_zlib_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2_(stream, windowBits, ZLIB_VERSION, (int)sizeof(z_stream));
}

#endif
