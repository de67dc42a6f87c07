/*
 * crc32c_impl: the two CRC-32C implementations behind dkv__crc32c(),
 * exposed only so the unit test can check each one against the other.
 * Nothing else should call them.
 */
#ifndef DKV_CRC32C_IMPL_H
#define DKV_CRC32C_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* Table-driven, any CPU. Same contract as dkv__crc32c(). */
uint32_t dkv__crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 if this CPU runs dkv__crc32c_hw(). */
int dkv__crc32c_hw_available(void);

/* SSE4.2 crc32 instruction; call only if dkv__crc32c_hw_available(). */
uint32_t dkv__crc32c_hw(uint32_t crc, const void *buf, size_t len);

#endif
