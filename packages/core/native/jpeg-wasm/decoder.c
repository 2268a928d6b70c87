/*
 * The JPEG decoder's entry points for JavaScript (jpeg-wasm.ts): libjpeg-turbo decoding a whole JPEG held in memory
 * to 8-bit interleaved RGB with the settings Pillow uses (JDCT_ISLOW, fancy upsampling, libjpeg's own colour
 * conversion), so the pixels are the ones torchvision's PIL pipeline sees.
 *
 * Anything libjpeg reports, warning or error, ends the decode at once through the imported jpeg_fail (which throws
 * in JavaScript and discards this instance): the caller then decodes the file the way it did before this decoder
 * existed, which reports truncation and corruption precisely. Only 8-bit YCbCr, RGB and grayscale JPEGs whose
 * coefficients are all complete and within the IDCT's common range (jsimd-wasm.c) are decoded here (decode returns
 * 0 for the others).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include "jpeglib.h"

__attribute__((import_module("env"), import_name("jpeg_fail"))) extern void jpeg_fail(int code, int warning);

static struct jpeg_decompress_struct cinfo;
static struct jpeg_error_mgr jerr;
static unsigned char *pixels = 0;
static size_t pixels_size = 0;

/* jsimd-wasm.c: a block's values left the range in which every libjpeg-turbo IDCT agrees; its kernels' calls. */
extern int jpeg_wasm_idct_out_of_range;
extern unsigned int jpeg_wasm_kernel_calls[4];

/* Copies the kernels' call counts (IDCT, YCbCr->RGB, h2v2 and h2v1 upsampling) to out[0..3]. */
__attribute__((export_name("kernel_calls"))) void kernel_calls(unsigned int *out) {
  for (int i = 0; i < 4; i++) out[i] = jpeg_wasm_kernel_calls[i];
}

static void on_error(j_common_ptr c) { jpeg_fail(c->err->msg_code, 0); }

/* Level -1 is a warning (corrupt data, a premature end); trace messages (level > 0) are ignored. */
static void on_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_fail(c->err->msg_code, 1);
}

static void no_output(j_common_ptr c) { (void)c; }

__attribute__((export_name("alloc"))) void *alloc(size_t n) { return malloc(n); }

__attribute__((export_name("release"))) void release(void *p) { free(p); }

/*
 * Decodes `len` bytes at `data`; returns the RGB pixels (valid until the next call) with width and height written to
 * size[0] and size[1], or 0 when the JPEG is not one this decoder takes (its colour space or precision).
 */
__attribute__((export_name("decode"))) unsigned char *decode(const unsigned char *data, size_t len, unsigned int *size) {
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = on_error;
  jerr.emit_message = on_message;
  jerr.output_message = no_output;
  jpeg_create_decompress(&cinfo);
  jpeg_wasm_idct_out_of_range = 0;
  jpeg_mem_src(&cinfo, data, (unsigned long)len);
  jpeg_read_header(&cinfo, TRUE);
  J_COLOR_SPACE space = cinfo.jpeg_color_space;
  if (cinfo.data_precision != 8 || (space != JCS_YCbCr && space != JCS_RGB && space != JCS_GRAYSCALE)) {
    jpeg_destroy_decompress(&cinfo);
    return 0;
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  /*
   * A progressive JPEG is read whole by now. Where its scans leave a coefficient incomplete (a scan script that
   * stops early, a damaged scan header), libjpeg smooths across blocks, and its smoothing changed between
   * libjpeg-turbo versions (3.0.1): libvips decodes those files instead, as it always has.
   */
  if (cinfo.progressive_mode && cinfo.coef_bits) {
    for (int ci = 0; ci < cinfo.num_components; ci++) {
      for (int k = 0; k < DCTSIZE2; k++) {
        if (cinfo.coef_bits[ci][k] != 0) {
          jpeg_destroy_decompress(&cinfo);
          return 0;
        }
      }
    }
  }
  /* The pixels must fit this 32-bit address space with room to spare (the caller's limit is far lower). */
  if ((unsigned long long)cinfo.output_width * cinfo.output_height * 3 > 0x40000000ULL) {
    jpeg_destroy_decompress(&cinfo);
    return 0;
  }
  size_t stride = (size_t)cinfo.output_width * 3;
  size_t need = stride * cinfo.output_height;
  if (need > pixels_size) {
    free(pixels);
    pixels = malloc(need);
    pixels_size = pixels ? need : 0;
    if (!pixels) {
      jpeg_destroy_decompress(&cinfo);
      return 0;
    }
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[16];
    JDIMENSION n = 0;
    for (; n < 16 && cinfo.output_scanline + n < cinfo.output_height; n++) rows[n] = pixels + (cinfo.output_scanline + n) * stride;
    jpeg_read_scanlines(&cinfo, rows, n);
  }
  jpeg_finish_decompress(&cinfo);
  size[0] = cinfo.output_width;
  size[1] = cinfo.output_height;
  jpeg_destroy_decompress(&cinfo);
  return jpeg_wasm_idct_out_of_range ? 0 : pixels;
}
