#ifndef CSF_JPEG_SHIM_H
#define CSF_JPEG_SHIM_H

#include <turbojpeg.h>

#endif
