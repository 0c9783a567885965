#ifndef MEMBERSHIP_EXPORT_CZLIB_SHIM_H
#define MEMBERSHIP_EXPORT_CZLIB_SHIM_H

#include <zlib.h>

/// deflateInit2 is a macro in zlib.h, which Swift cannot call; this wrapper passes the version and
/// struct size the macro would.
static inline int czlib_deflate_init2(z_streamp stream, int level, int method, int windowBits, int memLevel,
                                      int strategy) {
    return deflateInit2_(stream, level, method, windowBits, memLevel, strategy, ZLIB_VERSION, (int)sizeof(z_stream));
}

#endif
