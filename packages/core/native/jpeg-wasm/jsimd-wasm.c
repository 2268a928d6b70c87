/*
 * WebAssembly SIMD (simd128) kernels for libjpeg-turbo's decompressor: the accurate integer IDCT (JDCT_ISLOW) and
 * YCbCr -> RGB conversion, the two costliest steps after entropy decoding. Each computes exactly what the C code
 * computes (the same 32-bit integer arithmetic, the same rounding), so the pixels equal those of libjpeg-turbo's
 * C and x86/Arm SIMD paths (which are bit-exact with one another) for every valid JPEG. Everything else takes
 * libjpeg-turbo's C code: every other jsimd_set_* here answers "not available".
 */
#include <wasm_simd128.h>
#include "jinclude.h"
#define JPEG_INTERNALS
#include "jpeglib.h"
#include "jdct.h"
#include "jsimd.h"
#include "jsimddct.h"

/* ------------------------------------------------------------------ IDCT */

#define CONST_BITS 13
#define PASS1_BITS 2
#define F_0_298 2446
#define F_0_390 3196
#define F_0_541 4433
#define F_0_765 6270
#define F_0_899 7373
#define F_1_175 9633
#define F_1_501 12299
#define F_1_847 15137
#define F_1_961 16069
#define F_2_053 16819
#define F_2_562 20995
#define F_3_072 25172

typedef struct { v128_t lo, hi; } v8i32;

static inline v8i32 add8(v8i32 a, v8i32 b) { v8i32 r = { wasm_i32x4_add(a.lo, b.lo), wasm_i32x4_add(a.hi, b.hi) }; return r; }
static inline v8i32 sub8(v8i32 a, v8i32 b) { v8i32 r = { wasm_i32x4_sub(a.lo, b.lo), wasm_i32x4_sub(a.hi, b.hi) }; return r; }
static inline v8i32 mul8(v8i32 a, int c) {
  v128_t k = wasm_i32x4_splat(c);
  v8i32 r = { wasm_i32x4_mul(a.lo, k), wasm_i32x4_mul(a.hi, k) };
  return r;
}
static inline v8i32 shl8(v8i32 a, int n) { v8i32 r = { wasm_i32x4_shl(a.lo, n), wasm_i32x4_shl(a.hi, n) }; return r; }
/* DESCALE(x, n): (x + (1 << (n - 1))) >> n, arithmetic. */
static inline v8i32 descale8(v8i32 a, int n) {
  v128_t h = wasm_i32x4_splat(1 << (n - 1));
  v8i32 r = { wasm_i32x4_shr(wasm_i32x4_add(a.lo, h), n), wasm_i32x4_shr(wasm_i32x4_add(a.hi, h), n) };
  return r;
}

/*
 * One pass of the islow IDCT over eight vectors, lane by lane (jidctint.c's loop body): in[k] is the k-th input
 * of each lane's 1-D transform; the even and odd parts are returned as out[0..7] before descaling.
 * `dc_bias` is added to the even part's in[0] term (0 in pass 1).
 */
static inline void idct_1d(const v8i32 in[8], v8i32 out[8]) {
  v8i32 z2 = in[2], z3 = in[6];
  v8i32 z1 = mul8(add8(z2, z3), F_0_541);
  v8i32 tmp2 = add8(z1, mul8(z3, -F_1_847));
  v8i32 tmp3 = add8(z1, mul8(z2, F_0_765));
  z2 = in[0];
  z3 = in[4];
  v8i32 tmp0 = shl8(add8(z2, z3), CONST_BITS);
  v8i32 tmp1 = shl8(sub8(z2, z3), CONST_BITS);
  v8i32 tmp10 = add8(tmp0, tmp3), tmp13 = sub8(tmp0, tmp3);
  v8i32 tmp11 = add8(tmp1, tmp2), tmp12 = sub8(tmp1, tmp2);

  tmp0 = in[7];
  tmp1 = in[5];
  tmp2 = in[3];
  tmp3 = in[1];
  z1 = add8(tmp0, tmp3);
  z2 = add8(tmp1, tmp2);
  z3 = add8(tmp0, tmp2);
  v8i32 z4 = add8(tmp1, tmp3);
  v8i32 z5 = mul8(add8(z3, z4), F_1_175);
  tmp0 = mul8(tmp0, F_0_298);
  tmp1 = mul8(tmp1, F_2_053);
  tmp2 = mul8(tmp2, F_3_072);
  tmp3 = mul8(tmp3, F_1_501);
  z1 = mul8(z1, -F_0_899);
  z2 = mul8(z2, -F_2_562);
  z3 = mul8(z3, -F_1_961);
  z4 = mul8(z4, -F_0_390);
  z3 = add8(z3, z5);
  z4 = add8(z4, z5);
  tmp0 = add8(tmp0, add8(z1, z3));
  tmp1 = add8(tmp1, add8(z2, z4));
  tmp2 = add8(tmp2, add8(z2, z3));
  tmp3 = add8(tmp3, add8(z1, z4));

  out[0] = add8(tmp10, tmp3);
  out[7] = sub8(tmp10, tmp3);
  out[1] = add8(tmp11, tmp2);
  out[6] = sub8(tmp11, tmp2);
  out[2] = add8(tmp12, tmp1);
  out[5] = sub8(tmp12, tmp1);
  out[3] = add8(tmp13, tmp0);
  out[4] = sub8(tmp13, tmp0);
}

/* 4x4 transpose of 32-bit lanes. */
static inline void transpose4(v128_t a, v128_t b, v128_t c, v128_t d, v128_t *o0, v128_t *o1, v128_t *o2, v128_t *o3) {
  v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5);
  v128_t ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
  v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5);
  v128_t cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
  *o0 = wasm_i64x2_shuffle(ab_lo, cd_lo, 0, 2);
  *o1 = wasm_i64x2_shuffle(ab_lo, cd_lo, 1, 3);
  *o2 = wasm_i64x2_shuffle(ab_hi, cd_hi, 0, 2);
  *o3 = wasm_i64x2_shuffle(ab_hi, cd_hi, 1, 3);
}

/* out[j] = column j of m (lanes: rows 0-3 in .lo, 4-7 in .hi). */
static inline void transpose8(const v8i32 m[8], v8i32 t[8]) {
  transpose4(m[0].lo, m[1].lo, m[2].lo, m[3].lo, &t[0].lo, &t[1].lo, &t[2].lo, &t[3].lo);
  transpose4(m[4].lo, m[5].lo, m[6].lo, m[7].lo, &t[0].hi, &t[1].hi, &t[2].hi, &t[3].hi);
  transpose4(m[0].hi, m[1].hi, m[2].hi, m[3].hi, &t[4].lo, &t[5].lo, &t[6].lo, &t[7].lo);
  transpose4(m[4].hi, m[5].hi, m[6].hi, m[7].hi, &t[4].hi, &t[5].hi, &t[6].hi, &t[7].hi);
}

/* Eight 32-bit lanes -> clamp(x + 128) as bytes, in the low 8 bytes. */
static inline v128_t to_samples(v8i32 x) {
  v128_t s16 = wasm_i16x8_narrow_i32x4(x.lo, x.hi);
  s16 = wasm_i16x8_add_sat(s16, wasm_i16x8_splat(CENTERJSAMPLE));
  return wasm_u8x16_narrow_i16x8(s16, s16);
}

/*
 * Set when a block leaves the range in which libjpeg-turbo's IDCTs all give the same samples: dequantized
 * coefficients and first-pass values within +-16383 (the x86 and Arm SIMD IDCTs hold them, and sums of two of
 * them, in 16-bit lanes, and shift a DC-only column's value left by 2 in 16 bits), and second-pass values within
 * [-512, 511] (the C IDCT's range-limit table wraps beyond, where the SIMD IDCTs saturate). Inside that range this
 * IDCT, which computes the C code's 32-bit arithmetic and saturates as the SIMD code does, agrees with all of them;
 * outside it (damaged quantization tables, hostile files) they differ from one another, and decoder.c hands the
 * file to libvips, whose answer it has always been.
 */
int jpeg_wasm_idct_out_of_range = 0;

/* Calls of each kernel (decoder.c reports them: tests check that the kernels, not the C code, ran). */
unsigned int jpeg_wasm_kernel_calls[4] = { 0, 0, 0, 0 };

#define SAFE 16383
#define SAMPLE_SAFE 511

/* Lanes of x outside [-limit, limit] (outside [-limit - 1, limit] when `low` is 1). */
static inline v128_t outside(v8i32 x, int limit, int low) {
  const v128_t bias = wasm_i32x4_splat(limit + low), span = wasm_i32x4_splat(2 * limit + low);
  return wasm_v128_or(wasm_u32x4_gt(wasm_i32x4_add(x.lo, bias), span), wasm_u32x4_gt(wasm_i32x4_add(x.hi, bias), span));
}

static inline v128_t out_of_range(v8i32 x) { return outside(x, SAFE, 0); }

static void idct_islow_wasm(void *dct_table, JCOEFPTR coef_block, JSAMPARRAY output_buf, JDIMENSION output_col) {
  jpeg_wasm_kernel_calls[0]++;
  const short *q = (const short *)dct_table;
  v128_t c[8];
  v128_t ac = wasm_i32x4_splat(0);
  for (int k = 0; k < 8; k++) {
    c[k] = wasm_v128_load(coef_block + 8 * k);
    ac = wasm_v128_or(ac, k == 0 ? wasm_i16x8_replace_lane(c[0], 0, 0) : c[k]);
  }
  if (!wasm_v128_any_true(ac)) {
    /* DC only: every sample is the same (jidctint.c's column and row shortcuts give exactly this). */
    int dc = (int)coef_block[0] * (int)q[0];
    int v = (LEFT_SHIFT(dc, PASS1_BITS) + (1 << (PASS1_BITS + 2))) >> (PASS1_BITS + 3);
    /* The first pass's value is dc << 2 (held in 16 bits by the SIMD IDCTs' DC-only shortcut). */
    if (dc > SAFE / 4 || dc < -SAFE / 4 || v > SAMPLE_SAFE || v < -SAMPLE_SAFE - 1) jpeg_wasm_idct_out_of_range = 1;
    v += CENTERJSAMPLE;
    v = v < 0 ? 0 : v > MAXJSAMPLE ? MAXJSAMPLE : v;
    v128_t s = wasm_i8x16_splat((signed char)v);
    for (int r = 0; r < 8; r++) wasm_v128_store64_lane(output_buf[r] + output_col, s, 0);
    return;
  }
  /* Pass 1: columns (lanes), rows k of coefficients dequantized in 32 bits. */
  v8i32 in[8], ws[8], t[8], out[8];
  for (int k = 0; k < 8; k++) {
    v128_t qk = wasm_v128_load(q + 8 * k);
    in[k].lo = wasm_i32x4_extmul_low_i16x8(c[k], qk);
    in[k].hi = wasm_i32x4_extmul_high_i16x8(c[k], qk);
  }
  v128_t bad = wasm_i32x4_splat(0);
  for (int k = 0; k < 8; k++) bad = wasm_v128_or(bad, out_of_range(in[k]));
  idct_1d(in, out);
  for (int k = 0; k < 8; k++) {
    ws[k] = descale8(out[k], CONST_BITS - PASS1_BITS);
    bad = wasm_v128_or(bad, out_of_range(ws[k]));
  }
  if (wasm_v128_any_true(bad)) jpeg_wasm_idct_out_of_range = 1;
  /* Pass 2: rows (lanes after the transpose). */
  transpose8(ws, t);
  idct_1d(t, out);
  v128_t o[8];
  for (int j = 0; j < 8; j++) {
    v8i32 x = descale8(out[j], CONST_BITS + PASS1_BITS + 3);
    bad = wasm_v128_or(bad, outside(x, SAMPLE_SAFE, 1));
    o[j] = to_samples(x);
  }
  if (wasm_v128_any_true(bad)) jpeg_wasm_idct_out_of_range = 1;
  /* o[j] byte r = sample (row r, column j): transpose the 8x8 bytes into rows. */
  v128_t a = wasm_i64x2_shuffle(o[0], o[1], 0, 2);
  v128_t b = wasm_i64x2_shuffle(o[2], o[3], 0, 2);
  v128_t cc = wasm_i64x2_shuffle(o[4], o[5], 0, 2);
  v128_t d = wasm_i64x2_shuffle(o[6], o[7], 0, 2);
  v128_t ab0 = wasm_i8x16_shuffle(a, b, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
  v128_t ab1 = wasm_i8x16_shuffle(a, b, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
  v128_t cd0 = wasm_i8x16_shuffle(cc, d, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
  v128_t cd1 = wasm_i8x16_shuffle(cc, d, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
  v128_t r01 = wasm_i8x16_shuffle(ab0, cd0, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  v128_t r23 = wasm_i8x16_shuffle(ab0, cd0, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  v128_t r45 = wasm_i8x16_shuffle(ab1, cd1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  v128_t r67 = wasm_i8x16_shuffle(ab1, cd1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  wasm_v128_store64_lane(output_buf[0] + output_col, r01, 0);
  wasm_v128_store64_lane(output_buf[1] + output_col, r01, 1);
  wasm_v128_store64_lane(output_buf[2] + output_col, r23, 0);
  wasm_v128_store64_lane(output_buf[3] + output_col, r23, 1);
  wasm_v128_store64_lane(output_buf[4] + output_col, r45, 0);
  wasm_v128_store64_lane(output_buf[5] + output_col, r45, 1);
  wasm_v128_store64_lane(output_buf[6] + output_col, r67, 0);
  wasm_v128_store64_lane(output_buf[7] + output_col, r67, 1);
}

/* ------------------------------------------------------- YCbCr -> RGB */

#define SCALEBITS 16
#define ONE_HALF (1 << (SCALEBITS - 1))
#define FIXC(x) ((int)((x) * (1L << SCALEBITS) + 0.5))

/* jdcolext.c's ycc_rgb_convert, with its tables' arithmetic done inline. */
static inline void ycc_pixel(int y, int cb, int cr, JSAMPROW out) {
  cb -= CENTERJSAMPLE;
  cr -= CENTERJSAMPLE;
  int r = y + ((FIXC(1.40200) * cr + ONE_HALF) >> SCALEBITS);
  int g = y + ((-FIXC(0.34414) * cb + ONE_HALF + -FIXC(0.71414) * cr) >> SCALEBITS);
  int b = y + ((FIXC(1.77200) * cb + ONE_HALF) >> SCALEBITS);
  out[0] = (JSAMPLE)(r < 0 ? 0 : r > MAXJSAMPLE ? MAXJSAMPLE : r);
  out[1] = (JSAMPLE)(g < 0 ? 0 : g > MAXJSAMPLE ? MAXJSAMPLE : g);
  out[2] = (JSAMPLE)(b < 0 ? 0 : b > MAXJSAMPLE ? MAXJSAMPLE : b);
}

/* Four lanes of one channel's offset term: (k * x + ONE_HALF) >> 16 (and the green sum). */
static inline v128_t chan(v128_t y, v128_t t) { return wasm_i32x4_add(y, wasm_i32x4_shr(t, SCALEBITS)); }

static void ycc_rgb_wasm(JDIMENSION width, JSAMPIMAGE input_buf, JDIMENSION input_row, JSAMPARRAY output_buf, int num_rows) {
  jpeg_wasm_kernel_calls[1]++;
  const v128_t center = wasm_i16x8_splat(CENTERJSAMPLE);
  const v128_t kr = wasm_i32x4_splat(FIXC(1.40200)), kb = wasm_i32x4_splat(FIXC(1.77200));
  const v128_t kgb = wasm_i32x4_splat(-FIXC(0.34414)), kgr = wasm_i32x4_splat(-FIXC(0.71414));
  const v128_t half = wasm_i32x4_splat(ONE_HALF);
  while (--num_rows >= 0) {
    JSAMPROW y = input_buf[0][input_row], cbp = input_buf[1][input_row], crp = input_buf[2][input_row];
    JSAMPROW out = *output_buf++;
    input_row++;
    JDIMENSION col = 0;
    for (; col + 16 <= width; col += 16, out += 48) {
      v128_t Y = wasm_v128_load(y + col), CB = wasm_v128_load(cbp + col), CR = wasm_v128_load(crp + col);
      v128_t y16[2] = { wasm_u16x8_extend_low_u8x16(Y), wasm_u16x8_extend_high_u8x16(Y) };
      v128_t cb16[2] = { wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(CB), center), wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(CB), center) };
      v128_t cr16[2] = { wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(CR), center), wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(CR), center) };
      v128_t R[2], G[2], B[2];
      for (int h = 0; h < 2; h++) {
        v128_t yl = wasm_i32x4_extend_low_i16x8(y16[h]), yh = wasm_i32x4_extend_high_i16x8(y16[h]);
        v128_t bl = wasm_i32x4_extend_low_i16x8(cb16[h]), bh = wasm_i32x4_extend_high_i16x8(cb16[h]);
        v128_t rl = wasm_i32x4_extend_low_i16x8(cr16[h]), rh = wasm_i32x4_extend_high_i16x8(cr16[h]);
        v128_t r_l = chan(yl, wasm_i32x4_add(wasm_i32x4_mul(kr, rl), half));
        v128_t r_h = chan(yh, wasm_i32x4_add(wasm_i32x4_mul(kr, rh), half));
        v128_t g_l = chan(yl, wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(kgb, bl), half), wasm_i32x4_mul(kgr, rl)));
        v128_t g_h = chan(yh, wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(kgb, bh), half), wasm_i32x4_mul(kgr, rh)));
        v128_t b_l = chan(yl, wasm_i32x4_add(wasm_i32x4_mul(kb, bl), half));
        v128_t b_h = chan(yh, wasm_i32x4_add(wasm_i32x4_mul(kb, bh), half));
        R[h] = wasm_i16x8_narrow_i32x4(r_l, r_h);
        G[h] = wasm_i16x8_narrow_i32x4(g_l, g_h);
        B[h] = wasm_i16x8_narrow_i32x4(b_l, b_h);
      }
      v128_t r = wasm_u8x16_narrow_i16x8(R[0], R[1]);
      v128_t g = wasm_u8x16_narrow_i16x8(G[0], G[1]);
      v128_t b = wasm_u8x16_narrow_i16x8(B[0], B[1]);
      v128_t rg_lo = wasm_i8x16_shuffle(r, g, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      v128_t rg_hi = wasm_i8x16_shuffle(r, g, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      v128_t o0 = wasm_i8x16_shuffle(rg_lo, b, 0, 1, 16, 2, 3, 17, 4, 5, 18, 6, 7, 19, 8, 9, 20, 10);
      v128_t t1 = wasm_i8x16_shuffle(rg_lo, rg_hi, 11, 0, 12, 13, 0, 14, 15, 0, 16, 17, 0, 18, 19, 0, 20, 21);
      v128_t o1 = wasm_i8x16_shuffle(t1, b, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15);
      v128_t o2 = wasm_i8x16_shuffle(rg_hi, b, 26, 6, 7, 27, 8, 9, 28, 10, 11, 29, 12, 13, 30, 14, 15, 31);
      wasm_v128_store(out, o0);
      wasm_v128_store(out + 16, o1);
      wasm_v128_store(out + 32, o2);
    }
    for (; col < width; col++, out += 3) ycc_pixel(y[col], cbp[col], crp[col], out);
  }
}


/* ------------------------------------------------------ fancy upsampling */

/* Bytes [e0..e7] and [o0..o7] (as 16-bit lanes) -> e0 o0 e1 o1 ... e7 o7. */
static inline v128_t interleave_u16_to_u8(v128_t even, v128_t odd) {
  v128_t packed = wasm_u8x16_narrow_i16x8(even, odd);
  return wasm_i8x16_shuffle(packed, packed, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
}

static inline v128_t load8_u16(const JSAMPLE *p) { return wasm_u16x8_load8x8(p); }

/* jdsample.c's h2v2_fancy_upsample: the triangle filter, 9/16 3/16 3/16 1/16. */
static void h2v2_fancy_wasm(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                            JSAMPARRAY *output_data_ptr) {
  jpeg_wasm_kernel_calls[2]++;
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION n = compptr->downsampled_width;
  const v128_t three = wasm_i16x8_splat(3), c8 = wasm_i16x8_splat(8), c7 = wasm_i16x8_splat(7);
  int inrow = 0, outrow = 0;
  while (outrow < cinfo->max_v_samp_factor) {
    for (int v = 0; v < 2; v++) {
      const JSAMPLE *in0 = input_data[inrow];
      const JSAMPLE *in1 = v == 0 ? input_data[inrow - 1] : input_data[inrow + 1];
      JSAMPROW out = output_data[outrow++];
      int cs0 = in0[0] * 3 + in1[0], cs1 = in0[1] * 3 + in1[1];
      out[0] = (JSAMPLE)((cs0 * 4 + 8) >> 4);
      out[1] = (JSAMPLE)((cs0 * 3 + cs1 + 7) >> 4);
      JDIMENSION i = 1;
      for (; i + 8 <= n - 1; i += 8) {
        v128_t prev = wasm_i16x8_add(wasm_i16x8_mul(load8_u16(in0 + i - 1), three), load8_u16(in1 + i - 1));
        v128_t cur = wasm_i16x8_add(wasm_i16x8_mul(load8_u16(in0 + i), three), load8_u16(in1 + i));
        v128_t next = wasm_i16x8_add(wasm_i16x8_mul(load8_u16(in0 + i + 1), three), load8_u16(in1 + i + 1));
        v128_t cur3 = wasm_i16x8_mul(cur, three);
        v128_t even = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(cur3, prev), c8), 4);
        v128_t odd = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(cur3, next), c7), 4);
        wasm_v128_store(out + 2 * i, interleave_u16_to_u8(even, odd));
      }
      for (; i < n - 1; i++) {
        int last = in0[i - 1] * 3 + in1[i - 1], cur = in0[i] * 3 + in1[i], next = in0[i + 1] * 3 + in1[i + 1];
        out[2 * i] = (JSAMPLE)((cur * 3 + last + 8) >> 4);
        out[2 * i + 1] = (JSAMPLE)((cur * 3 + next + 7) >> 4);
      }
      int last = in0[n - 2] * 3 + in1[n - 2], cur = in0[n - 1] * 3 + in1[n - 1];
      out[2 * (n - 1)] = (JSAMPLE)((cur * 3 + last + 8) >> 4);
      out[2 * (n - 1) + 1] = (JSAMPLE)((cur * 4 + 7) >> 4);
    }
    inrow++;
  }
}

/* jdsample.c's h2v1_fancy_upsample: 3/4 nearer + 1/4 further, horizontally. */
static void h2v1_fancy_wasm(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                            JSAMPARRAY *output_data_ptr) {
  jpeg_wasm_kernel_calls[3]++;
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION n = compptr->downsampled_width;
  const v128_t three = wasm_i16x8_splat(3), c1 = wasm_i16x8_splat(1), c2 = wasm_i16x8_splat(2);
  for (int inrow = 0; inrow < cinfo->max_v_samp_factor; inrow++) {
    const JSAMPLE *in = input_data[inrow];
    JSAMPROW out = output_data[inrow];
    out[0] = in[0];
    out[1] = (JSAMPLE)((in[0] * 3 + in[1] + 2) >> 2);
    JDIMENSION i = 1;
    for (; i + 8 <= n - 1; i += 8) {
      v128_t cur3 = wasm_i16x8_mul(load8_u16(in + i), three);
      v128_t even = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(cur3, load8_u16(in + i - 1)), c1), 2);
      v128_t odd = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(cur3, load8_u16(in + i + 1)), c2), 2);
      wasm_v128_store(out + 2 * i, interleave_u16_to_u8(even, odd));
    }
    for (; i < n - 1; i++) {
      out[2 * i] = (JSAMPLE)((in[i] * 3 + in[i - 1] + 1) >> 2);
      out[2 * i + 1] = (JSAMPLE)((in[i] * 3 + in[i + 1] + 2) >> 2);
    }
    out[2 * (n - 1)] = (JSAMPLE)((in[n - 1] * 3 + in[n - 2] + 1) >> 2);
    out[2 * (n - 1) + 1] = in[n - 1];
  }
}

/* ------------------------------------------------------------ dispatch */

HIDDEN unsigned int jsimd_set_idct_islow(j_decompress_ptr cinfo) {
  if (sizeof(JCOEF) != 2 || sizeof(ISLOW_MULT_TYPE) != 2 || BITS_IN_JSAMPLE != 8 || !cinfo->idct) return JSIMD_NONE;
  cinfo->idct->idct_simd = idct_islow_wasm;
  return 1;
}

HIDDEN void jsimd_idct_islow(j_decompress_ptr cinfo, jpeg_component_info *compptr, JCOEFPTR coef_block,
                             JSAMPARRAY output_buf, JDIMENSION output_col) {
  idct_islow_wasm(compptr->dct_table, coef_block, output_buf, output_col);
}

HIDDEN unsigned int jsimd_set_ycc_rgb(j_decompress_ptr cinfo) {
  if (BITS_IN_JSAMPLE != 8 || !cinfo->cconvert) return JSIMD_NONE;
  /* Three bytes a pixel in R, G, B order only (JCS_RGB is JCS_EXT_RGB in this build). */
  if (cinfo->out_color_space != JCS_RGB && cinfo->out_color_space != JCS_EXT_RGB) return JSIMD_NONE;
  return 1;
}

HIDDEN void jsimd_color_deconvert(j_decompress_ptr cinfo, JSAMPIMAGE input_buf, JDIMENSION input_row,
                                  JSAMPARRAY output_buf, int num_rows) {
  ycc_rgb_wasm(cinfo->output_width, input_buf, input_row, output_buf, num_rows);
}

HIDDEN unsigned int jsimd_set_h2v2_fancy_upsample(j_decompress_ptr cinfo) { return BITS_IN_JSAMPLE == 8 ? 1 : JSIMD_NONE; }
HIDDEN void jsimd_h2v2_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                                      JSAMPARRAY *output_data_ptr) {
  h2v2_fancy_wasm(cinfo, compptr, input_data, output_data_ptr);
}
HIDDEN unsigned int jsimd_set_h2v1_fancy_upsample(j_decompress_ptr cinfo) { return BITS_IN_JSAMPLE == 8 ? 1 : JSIMD_NONE; }
HIDDEN void jsimd_h2v1_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                                      JSAMPARRAY *output_data_ptr) {
  h2v1_fancy_wasm(cinfo, compptr, input_data, output_data_ptr);
}

/* Not accelerated here: libjpeg-turbo's C code runs. */
HIDDEN unsigned int jsimd_set_ycc_rgb565(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_idct_2x2(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_idct_4x4(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_idct_ifast(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_idct_float(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_h2v1_upsample(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_h2v2_upsample(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_h1v2_fancy_upsample(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_h2v1_merged_upsample(j_decompress_ptr cinfo) { return JSIMD_NONE; }
HIDDEN unsigned int jsimd_set_h2v2_merged_upsample(j_decompress_ptr cinfo) { return JSIMD_NONE; }

/* Never called (their jsimd_set_* said no). */
HIDDEN void jsimd_idct_2x2(j_decompress_ptr c, jpeg_component_info *p, JCOEFPTR b, JSAMPARRAY o, JDIMENSION col) { __builtin_trap(); }
HIDDEN void jsimd_idct_4x4(j_decompress_ptr c, jpeg_component_info *p, JCOEFPTR b, JSAMPARRAY o, JDIMENSION col) { __builtin_trap(); }
HIDDEN void jsimd_idct_ifast(j_decompress_ptr c, jpeg_component_info *p, JCOEFPTR b, JSAMPARRAY o, JDIMENSION col) { __builtin_trap(); }
HIDDEN void jsimd_idct_float(j_decompress_ptr c, jpeg_component_info *p, JCOEFPTR b, JSAMPARRAY o, JDIMENSION col) { __builtin_trap(); }
HIDDEN void jsimd_h2v1_upsample(j_decompress_ptr c, jpeg_component_info *p, JSAMPARRAY i, JSAMPARRAY *o) { __builtin_trap(); }
HIDDEN void jsimd_h2v2_upsample(j_decompress_ptr c, jpeg_component_info *p, JSAMPARRAY i, JSAMPARRAY *o) { __builtin_trap(); }
HIDDEN void jsimd_h1v2_fancy_upsample(j_decompress_ptr c, jpeg_component_info *p, JSAMPARRAY i, JSAMPARRAY *o) { __builtin_trap(); }
HIDDEN void jsimd_h2v1_merged_upsample(j_decompress_ptr c, JSAMPIMAGE i, JDIMENSION r, JSAMPARRAY o) { __builtin_trap(); }
HIDDEN void jsimd_h2v2_merged_upsample(j_decompress_ptr c, JSAMPIMAGE i, JDIMENSION r, JSAMPARRAY o) { __builtin_trap(); }
