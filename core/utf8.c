#include "core/utf8.h"

#include "core/buf.h"

bool utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) { /* the sequence rules live in one place: core/buf.h */
            size_t n = buf_utf8_seq_len(s + i, len - i);
            if (n == 0)
                return false;
            i += n;
        } else if (c == 0) {
            return false;
        } else {
            i++; /* ASCII, the common case, without a call */
        }
    }
    return true;
}
