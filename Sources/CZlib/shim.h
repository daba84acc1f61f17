// zlib, for inflating the deflated entries of model archives (a .keras file's config, a
// compressed .npz) before they are scanned. Installed with the Swift toolchain's dependencies.
#include <zlib.h>
