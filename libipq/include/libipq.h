/* Programs include <libipq.h> or <libipq/libipq.h>; both are the same. */
#include "libipq/libipq.h"
