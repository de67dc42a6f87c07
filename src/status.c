/*
 * status: text for every dkv_status_t, generated from DKV_STATUS_MAP in
 * include/dramkv.h so that the enum and its strings cannot drift apart.
 * Pure and stateless: every function returns static data and is safe from
 * any thread.
 */
#include "status.h"

const char *dkv_strerror(dkv_status_t status)
{
    switch ((int)status) {
#define DKV_X_TEXT(name, value, text)                                          \
    case value:                                                                \
        return text;
        DKV_STATUS_MAP(DKV_X_TEXT)
#undef DKV_X_TEXT
    default:
        return "unknown status";
    }
}

int dkv__status_is_known(int status)
{
    switch (status) {
#define DKV_X_KNOWN(name, value, text)                                         \
    case value:                                                                \
        return 1;
        DKV_STATUS_MAP(DKV_X_KNOWN)
#undef DKV_X_KNOWN
    default:
        return 0;
    }
}

int dkv_version(void)
{
    return DKV_VERSION_MAJOR * 10000 + DKV_VERSION_MINOR * 100 +
           DKV_VERSION_PATCH;
}
