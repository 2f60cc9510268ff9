// persistence/crc32c.h: CRC32C (Castagnoli), the checksum of every
// journal record.
#ifndef CASTY_PERSISTENCE_CRC32C_H
#define CASTY_PERSISTENCE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/**
 * cst_crc32c_update extends crc (0 to start) over len bytes of data and
 * returns the new value: cst_crc32c_update(0, "123456789", 9) is
 * 0xe3069283. Thread: any.
 */
uint32_t cst_crc32c_update(uint32_t crc, const void *data, size_t len);

#endif // CASTY_PERSISTENCE_CRC32C_H
