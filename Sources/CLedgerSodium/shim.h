#ifndef CLEDGER_SODIUM_SHIM_H
#define CLEDGER_SODIUM_SHIM_H
#include <sodium.h>
#endif
