/*
 * status: internal helpers around dkv_status_t (the list itself lives in
 * include/dramkv.h so that users see every code).
 */
#ifndef DKV_STATUS_H
#define DKV_STATUS_H

#include "dramkv.h"

/* 1 if @p status is one of the codes in DKV_STATUS_MAP. */
int dkv__status_is_known(int status);

#endif
