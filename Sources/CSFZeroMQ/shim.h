#ifndef CSF_ZEROMQ_SHIM_H
#define CSF_ZEROMQ_SHIM_H

#include <zmq.h>

// ZMQ_VERSION is a macro expression Swift cannot import.
static inline int csf_zmq_header_version(void) { return ZMQ_VERSION; }

#endif
