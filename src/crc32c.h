/*
 * crc32c: CRC-32C (Castagnoli), as used by iSCSI/ext4. Uses the SSE4.2
 * crc32 instruction when the CPU has it, else a table. Pure.
 * dkv__crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef DKV_CRC32C_H
#define DKV_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: pass 0 to start; the result is the finished CRC. */
uint32_t dkv__crc32c(uint32_t crc, const void *buf, size_t len);

#endif
