/*
 * proc_alive: is a process on this node still running? Reads /proc; no
 * UCX, no PMIx. Used to learn quickly that a peer on the same node has
 * died, beside UCX's own error reports. Any thread; no state.
 */
#ifndef DKV_PROC_ALIVE_H
#define DKV_PROC_ALIVE_H

#include <stdint.h>

/* 1 if the process @p pid has exited (gone, or a zombie not yet reaped). */
int dkv__proc_gone(int32_t pid);

#endif
