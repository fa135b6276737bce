#ifndef CSF_PNG_SHIM_H
#define CSF_PNG_SHIM_H

#include <png.h>

#endif
