#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// The SHA-256 compression function, over whole 64-byte blocks, in three variants.
/// `state` is the eight working words H0..H7 in their natural order.

/// Portable C; runs anywhere.
void csha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

/// Whether this CPU has SHA-256 instructions this library uses (x86-64: SHA extensions with
/// SSSE3 and SSE4.1, checked with cpuid; arm64: the SHA2 crypto extension). Checked once.
int csha256_hardware_available(void);

/// SHA-256 instructions. Call only when `csha256_hardware_available()` returned 1: on a CPU
/// without them this is an illegal instruction.
void csha256_blocks_hardware(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
