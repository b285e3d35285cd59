/*
 * CRC-32C (Castagnoli) kernels for rs2fast.
 *
 * Notation: CRC states are 32-bit "reflected" values (bit 0 holds the highest-degree coefficient),
 * the convention of the SSE4.2 `crc32` instruction. The internal `*_raw` functions work on the raw
 * register (no pre/post inversion); rs2_crc32c() applies the usual inversions.
 *
 * Paths, chosen once by rs2_crc32c_init() from the CPU's features:
 *   RS2_CRC_PORTABLE     slicing-by-8 tables (any CPU)
 *   RS2_CRC_SSE42        `crc32` instruction over three interleaved streams; the three partial CRCs are
 *                        joined with a table-driven "append L zero bytes" operator
 *   RS2_CRC_SSE42_CLMUL  as above, but the join uses one carry-less multiply
 *   RS2_CRC_AVX512       VPCLMULQDQ folding of 256-byte blocks (16 lanes of 128 bits), `crc32` for the
 *                        final reduction and the tail
 *
 * Algebra used throughout (P = the CRC-32C polynomial, arithmetic in GF(2)[x]):
 *   raw(c, M) = c * x^(8|M|) + M * x^32  (mod P)
 *   so raw(c, A||B) = shift(raw(c, A), |B|) ^ raw(0, B) with shift(c, n) = c * x^(8n) mod P.
 */
#ifndef RS2FAST_CRC32C_H
#define RS2FAST_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RS2_CRC_POLY 0x82F63B78u /* x^32 + ... reflected */

enum {
    RS2_CRC_PORTABLE = 0,
    RS2_CRC_SSE42 = 1,
    RS2_CRC_SSE42_CLMUL = 2,
    RS2_CRC_AVX512 = 3
};

static uint32_t rs2_crc_table[8][256]; /* slicing-by-8: table[k][b] = raw CRC of b then k zero bytes */
static int rs2_crc_best = RS2_CRC_PORTABLE; /* fastest path this CPU supports */

/* ---- GF(2) arithmetic on reflected 32-bit values ------------------------------------------------ */

/* a * b mod P. */
static uint32_t rs2_crc_mulmod(uint32_t a, uint32_t b)
{
    uint32_t product = 0;
    uint32_t bit;
    for (bit = 0x80000000u; bit != 0; bit >>= 1) {   /* bit for x^0, x^1, ... x^31 of a */
        if (a & bit)
            product ^= b;
        b = (b & 1u) ? (b >> 1) ^ RS2_CRC_POLY : b >> 1; /* b *= x */
    }
    return product;
}

/* x^n mod P, by square and multiply. */
static uint32_t rs2_crc_xpow(uint64_t n)
{
    uint32_t result = 0x80000000u; /* x^0 */
    uint32_t base = 0x40000000u;   /* x^1 */
    while (n) {
        if (n & 1u)
            result = rs2_crc_mulmod(result, base);
        base = rs2_crc_mulmod(base, base);
        n >>= 1;
    }
    return result;
}

/* The raw state after appending `nbytes` zero bytes: crc * x^(8 nbytes) mod P. */
static uint32_t rs2_crc_shift(uint32_t crc, uint64_t nbytes)
{
    return rs2_crc_mulmod(crc, rs2_crc_xpow(8 * nbytes));
}

static uint64_t rs2_crc_load64le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* ---- portable slicing-by-8 ---------------------------------------------------------------------- */

static uint32_t rs2_crc32c_portable_raw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n && ((uintptr_t)p & 7u)) {
        crc = rs2_crc_table[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t word = rs2_crc_load64le(p);
        uint32_t lo = crc ^ (uint32_t)word;
        uint32_t hi = (uint32_t)(word >> 32);
        crc = rs2_crc_table[7][lo & 0xFFu] ^ rs2_crc_table[6][(lo >> 8) & 0xFFu] ^
              rs2_crc_table[5][(lo >> 16) & 0xFFu] ^ rs2_crc_table[4][lo >> 24] ^
              rs2_crc_table[3][hi & 0xFFu] ^ rs2_crc_table[2][(hi >> 8) & 0xFFu] ^
              rs2_crc_table[1][(hi >> 16) & 0xFFu] ^ rs2_crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = rs2_crc_table[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return crc;
}

/* ---- x86-64 accelerated paths ------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define RS2_CRC_X86 1
#include <immintrin.h>

#define RS2_CRC_LONG 8192u /* bytes per stream in a long three-stream block */
#define RS2_CRC_SHORT 256u /* bytes per stream in a short three-stream block */

static uint32_t rs2_crc_shift_long[4][256];  /* shift(b << 8k, RS2_CRC_LONG) */
static uint32_t rs2_crc_shift_short[4][256]; /* shift(b << 8k, RS2_CRC_SHORT) */
static uint32_t rs2_crc_k_long;              /* x^(8 RS2_CRC_LONG - 33) mod P, for the clmul join */
static uint32_t rs2_crc_k_short;
static uint64_t rs2_crc_fold_k[4]; /* AVX-512 fold constants (x^(D+31), x^(D-33)) mod P for D = 2048, 512 bits */
static uint64_t rs2_crc_fold_k128[2];
static uint64_t rs2_crc_fold_k256[2];
static uint64_t rs2_crc_fold_k384[2];

static inline uint32_t rs2_crc_shift_table(const uint32_t table[4][256], uint32_t crc)
{
    return table[0][crc & 0xFFu] ^ table[1][(crc >> 8) & 0xFFu] ^ table[2][(crc >> 16) & 0xFFu] ^
           table[3][crc >> 24];
}

/* shift(crc, L) given k = x^(8L - 33) mod P: the carry-less product is crc * k * x, and the `crc32`
   instruction on that 64-bit value multiplies by x^32 and reduces mod P. */
__attribute__((target("sse4.2,pclmul"))) static uint32_t rs2_crc_shift_clmul(uint32_t crc, uint32_t k)
{
    __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)crc), _mm_cvtsi32_si128((int)k), 0x00);
    return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(product));
}

/* Inside rs2_crc32c_sse42_raw: c0 becomes the CRC of c0 followed by the 3 * LEN bytes at p, read as
   three interleaved streams of LEN bytes whose CRCs are then combined (a shift by LEN bytes: with K by
   carry-less multiplication, else with TABLE); p and n move past them. A macro, so that LEN stays a
   constant in the loop. */
#define RS2_CRC_THREE_WAY(LEN, K, TABLE)                                   \
    do {                                                                  \
        uint64_t c1 = 0, c2 = 0;                                          \
        const uint8_t *end = p + (LEN);                                   \
        do {                                                              \
            uint64_t w0, w1, w2;                                          \
            memcpy(&w0, p, 8);                                            \
            memcpy(&w1, p + (LEN), 8);                                    \
            memcpy(&w2, p + 2 * (LEN), 8);                                \
            c0 = _mm_crc32_u64(c0, w0);                                   \
            c1 = _mm_crc32_u64(c1, w1);                                   \
            c2 = _mm_crc32_u64(c2, w2);                                   \
            p += 8;                                                       \
        } while (p < end);                                                \
        if (clmul) {                                                      \
            c0 = rs2_crc_shift_clmul((uint32_t)c0, (K)) ^ (uint32_t)c1;   \
            c0 = rs2_crc_shift_clmul((uint32_t)c0, (K)) ^ (uint32_t)c2;   \
        } else {                                                          \
            c0 = rs2_crc_shift_table((TABLE), (uint32_t)c0) ^ (uint32_t)c1; \
            c0 = rs2_crc_shift_table((TABLE), (uint32_t)c0) ^ (uint32_t)c2; \
        }                                                                 \
        p += 2 * (LEN);                                                   \
        n -= 3 * (LEN);                                                   \
    } while (0)

__attribute__((target("sse4.2"))) static uint32_t rs2_crc32c_sse42_raw(uint32_t crc, const uint8_t *p,
                                                                         size_t n, int clmul)
{
    uint64_t c0 = crc;
    while (n && ((uintptr_t)p & 7u)) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        n--;
    }
    /* Three interleaved streams hide the instruction's 3-cycle latency. */
    while (n >= 3 * RS2_CRC_LONG)
        RS2_CRC_THREE_WAY(RS2_CRC_LONG, rs2_crc_k_long, rs2_crc_shift_long);
    while (n >= 3 * RS2_CRC_SHORT)
        RS2_CRC_THREE_WAY(RS2_CRC_SHORT, rs2_crc_k_short, rs2_crc_shift_short);
#undef RS2_CRC_THREE_WAY
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c0 = _mm_crc32_u64(c0, w);
        p += 8;
        n -= 8;
    }
    while (n--)
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return (uint32_t)c0;
}

#define RS2_AVX512_TARGET "avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"

/* Move every 128-bit lane of x forward by D bits (k holds the pair of constants for D). */
__attribute__((target(RS2_AVX512_TARGET))) static inline __m512i rs2_crc_fold512(__m512i x, __m512i k)
{
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}

__attribute__((target(RS2_AVX512_TARGET))) static inline __m512i rs2_crc_fold512_add(__m512i x, __m512i k,
                                                                                     __m512i add)
{
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                     _mm512_clmulepi64_epi128(x, k, 0x11), add, 0x96);
}

__attribute__((target(RS2_AVX512_TARGET))) static inline __m128i rs2_crc_fold128(__m128i x, const uint64_t k[2])
{
    __m128i kk = _mm_set_epi64x((long long)k[1], (long long)k[0]);
    return _mm_xor_si128(_mm_clmulepi64_si128(x, kk, 0x00), _mm_clmulepi64_si128(x, kk, 0x11));
}

__attribute__((target(RS2_AVX512_TARGET))) static uint32_t rs2_crc32c_avx512_raw(uint32_t crc, const uint8_t *p,
                                                                                 size_t n)
{
    __m512i x0, x1, x2, x3, k;
    __m128i lane;
    if (n < 1024)
        return rs2_crc32c_sse42_raw(crc, p, n, 1);
    /* The initial state enters as the first 32 message bits. */
    x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p), _mm512_castsi128_si512(_mm_cvtsi32_si128((int)crc)));
    x1 = _mm512_loadu_si512((const void *)(p + 64));
    x2 = _mm512_loadu_si512((const void *)(p + 128));
    x3 = _mm512_loadu_si512((const void *)(p + 192));
    p += 256;
    n -= 256;
    k = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)rs2_crc_fold_k[1], (long long)rs2_crc_fold_k[0]));
    while (n >= 256) {
        x0 = rs2_crc_fold512_add(x0, k, _mm512_loadu_si512((const void *)p));
        x1 = rs2_crc_fold512_add(x1, k, _mm512_loadu_si512((const void *)(p + 64)));
        x2 = rs2_crc_fold512_add(x2, k, _mm512_loadu_si512((const void *)(p + 128)));
        x3 = rs2_crc_fold512_add(x3, k, _mm512_loadu_si512((const void *)(p + 192)));
        p += 256;
        n -= 256;
    }
    k = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)rs2_crc_fold_k[3], (long long)rs2_crc_fold_k[2]));
    x1 = rs2_crc_fold512_add(x0, k, x1);
    x2 = rs2_crc_fold512_add(x1, k, x2);
    x3 = rs2_crc_fold512_add(x2, k, x3);
    while (n >= 64) {
        x3 = rs2_crc_fold512_add(x3, k, _mm512_loadu_si512((const void *)p));
        p += 64;
        n -= 64;
    }
    lane = _mm_xor_si128(rs2_crc_fold128(_mm512_extracti32x4_epi32(x3, 0), rs2_crc_fold_k384),
                         rs2_crc_fold128(_mm512_extracti32x4_epi32(x3, 1), rs2_crc_fold_k256));
    lane = _mm_xor_si128(lane, rs2_crc_fold128(_mm512_extracti32x4_epi32(x3, 2), rs2_crc_fold_k128));
    lane = _mm_xor_si128(lane, _mm512_extracti32x4_epi32(x3, 3));
    crc = (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(lane));
    crc = (uint32_t)_mm_crc32_u64(crc, (uint64_t)_mm_extract_epi64(lane, 1));
    return n ? rs2_crc32c_sse42_raw(crc, p, n, 1) : crc;
}

static void rs2_crc_fold_pair(uint64_t out[2], uint32_t bits)
{
    out[0] = rs2_crc_xpow((uint64_t)bits + 31); /* for the first 8 bytes of a lane */
    out[1] = rs2_crc_xpow((uint64_t)bits - 33); /* for the last 8 bytes */
}
#else
#define RS2_CRC_X86 0
#endif

/* ---- setup and dispatch ------------------------------------------------------------------------- */

/* Fill the tables and pick the fastest path. Call once, with the GIL held, before any other call. */
static void rs2_crc32c_init(void)
{
    uint32_t i, k, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ RS2_CRC_POLY : c >> 1;
        rs2_crc_table[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            rs2_crc_table[k][i] = (rs2_crc_table[k - 1][i] >> 8) ^ rs2_crc_table[0][rs2_crc_table[k - 1][i] & 0xFFu];
    rs2_crc_best = RS2_CRC_PORTABLE;
#if RS2_CRC_X86
    {
        uint32_t x_long = rs2_crc_xpow(8ull * RS2_CRC_LONG), x_short = rs2_crc_xpow(8ull * RS2_CRC_SHORT);
        uint64_t pair[2];
        for (k = 0; k < 4; k++)
            for (i = 0; i < 256; i++) {
                rs2_crc_shift_long[k][i] = rs2_crc_mulmod(i << (8 * k), x_long);
                rs2_crc_shift_short[k][i] = rs2_crc_mulmod(i << (8 * k), x_short);
            }
        rs2_crc_k_long = rs2_crc_xpow(8ull * RS2_CRC_LONG - 33);
        rs2_crc_k_short = rs2_crc_xpow(8ull * RS2_CRC_SHORT - 33);
        rs2_crc_fold_pair(pair, 2048);
        rs2_crc_fold_k[0] = pair[0];
        rs2_crc_fold_k[1] = pair[1];
        rs2_crc_fold_pair(pair, 512);
        rs2_crc_fold_k[2] = pair[0];
        rs2_crc_fold_k[3] = pair[1];
        rs2_crc_fold_pair(rs2_crc_fold_k384, 384);
        rs2_crc_fold_pair(rs2_crc_fold_k256, 256);
        rs2_crc_fold_pair(rs2_crc_fold_k128, 128);
        __builtin_cpu_init();
        if (__builtin_cpu_supports("sse4.2")) {
            rs2_crc_best = RS2_CRC_SSE42;
            if (__builtin_cpu_supports("pclmul")) {
                rs2_crc_best = RS2_CRC_SSE42_CLMUL;
                if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("vpclmulqdq"))
                    rs2_crc_best = RS2_CRC_AVX512;
            }
        }
    }
#endif
}

/* CRC-32C of p[0:n] continuing from a finished CRC value `crc` (0 to start), on path `mode`
   (which must not exceed rs2_crc_best). Safe without the GIL. */
static uint32_t rs2_crc32c_mode(uint32_t crc, const uint8_t *p, size_t n, int mode)
{
    crc = ~crc;
    switch (mode) {
#if RS2_CRC_X86
    case RS2_CRC_AVX512:
        crc = rs2_crc32c_avx512_raw(crc, p, n);
        break;
    case RS2_CRC_SSE42_CLMUL:
        crc = rs2_crc32c_sse42_raw(crc, p, n, 1);
        break;
    case RS2_CRC_SSE42:
        crc = rs2_crc32c_sse42_raw(crc, p, n, 0);
        break;
#endif
    default:
        crc = rs2_crc32c_portable_raw(crc, p, n);
        break;
    }
    return ~crc;
}

/* CRC-32C on the fastest path. Safe without the GIL. */
static inline uint32_t rs2_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    return rs2_crc32c_mode(crc, p, n, rs2_crc_best);
}

#endif /* RS2FAST_CRC32C_H */
