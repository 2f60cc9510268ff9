// persistence/msgpuck.c: the one translation unit that holds msgpuck's
// out-of-line functions and tables (its header is the library; see the
// header's own note on MP_SOURCE). Hidden inside libcasty like the rest.
#define MP_SOURCE 1
#include <msgpuck.h>
