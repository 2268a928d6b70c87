;; Pillow's bilinear resize passes (resize.ts) in WebAssembly SIMD, for resize-simd.ts. Integer arithmetic only:
;; the same 22-bit fixed-point weights (computed in JS), the same int32 sums and the same clip to 0..255, so the
;; results are identical byte for byte. All pointers are byte offsets into the exported memory, laid out by
;; resize-simd.ts with at least 16 bytes of slack after every buffer (loads and stores run up to 15 bytes past the
;; last pixel; the bytes they write there are overwritten or unused).
;;
;; Assembled by scripts/build-resize-wasm.mjs into resize-simd.generated.ts.
(module
  (memory (export "memory") 1 8192)

  ;; Horizontal pass. For each of `rows` rows of 8-bit RGB (`srcStride` bytes apart) and each of `width` outputs,
  ;; the taps are taken four at a time (one 16-byte load), as two pairs: the output's coefficient record
  ;; (`coefStride` bytes, from `coef`) is
  ;;   i32 byte offset of the first tap's pixel in the row, i32 number of tap quads, 8 bytes unused,
  ;;   then per pair 16 bytes of low weight halves and 16 bytes of high weight halves, as i16x8
  ;;   [w0 w1 w0 w1 w0 w1 0 0] (weight = high * 2048 + low; the taps past the count have weight zero).
  ;; A pair's pixels become i16 lanes [R0 R1 G0 G1 B0 B1 0 0], so i32x4.dot_i16x8_s gives the R, G and B sums of
  ;; both taps in lanes 0–2, exactly (|products| < 2^19). Writes RGB to `dst`, `dstStride` bytes per row.
  (func (export "hpass")
    (param $src i32) (param $srcStride i32) (param $rows i32) (param $width i32)
    (param $coef i32) (param $coefStride i32) (param $dst i32) (param $dstStride i32)
    (local $y i32) (local $x i32) (local $row i32) (local $c i32) (local $d i32)
    (local $p i32) (local $n i32) (local $w i32)
    (local $v v128) (local $px v128) (local $accL v128) (local $accH v128) (local $zero v128) (local $round v128)
    (local.set $zero (v128.const i32x4 0 0 0 0))
    (local.set $round (v128.const i32x4 2097152 2097152 2097152 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $srcStride))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $dstStride))))
        (local.set $c (local.get $coef))
        (local.set $x (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $x) (local.get $width)))
            (local.set $p (i32.add (local.get $row) (i32.load (local.get $c))))
            (local.set $n (i32.load offset=4 (local.get $c)))
            (local.set $w (i32.add (local.get $c) (i32.const 16)))
            (local.set $accL (local.get $round))
            (local.set $accH (local.get $zero))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.eqz (local.get $n)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $px (i8x16.shuffle 0 16 3 16 1 16 4 16 2 16 5 16 16 16 16 16 (local.get $v) (local.get $zero)))
                (local.set $accL (i32x4.add (local.get $accL)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load (local.get $w)))))
                (local.set $accH (i32x4.add (local.get $accH)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load offset=16 (local.get $w)))))
                (local.set $px (i8x16.shuffle 6 16 9 16 7 16 10 16 8 16 11 16 16 16 16 16 (local.get $v) (local.get $zero)))
                (local.set $accL (i32x4.add (local.get $accL)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load offset=32 (local.get $w)))))
                (local.set $accH (i32x4.add (local.get $accH)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load offset=48 (local.get $w)))))
                (local.set $p (i32.add (local.get $p) (i32.const 12)))
                (local.set $w (i32.add (local.get $w) (i32.const 64)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $tapLoop)))
            ;; sum = high * 2048 + low (+ the rounding half, in accL); clip8 = saturate(sum >> 22) to 0..255.
            (local.set $accL (i32x4.shr_s
              (i32x4.add (i32x4.shl (local.get $accH) (i32.const 11)) (local.get $accL)) (i32.const 22)))
            (local.set $px (i16x8.narrow_i32x4_s (local.get $accL) (local.get $accL)))
            (v128.store32_lane 0 (local.get $d) (i8x16.narrow_i16x8_u (local.get $px) (local.get $px)))
            (local.set $d (i32.add (local.get $d) (i32.const 3)))
            (local.set $c (i32.add (local.get $c) (local.get $coefStride)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $colLoop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))

  ;; Vertical pass. For each of `height` output rows of `rowBytes` bytes, its coefficient record (`coefStride` bytes
  ;; from `coef`) is i32 byte offset of its first source row from `src`, i32 number of taps, then one i32 weight
  ;; per tap; source rows are `srcStride` bytes apart. 16 bytes at a time: four i32x4 sums of byte * weight.
  (func (export "vpass")
    (param $src i32) (param $srcStride i32) (param $rowBytes i32) (param $height i32)
    (param $coef i32) (param $coefStride i32) (param $dst i32)
    (local $y i32) (local $col i32) (local $base i32) (local $n i32) (local $t i32)
    (local $p i32) (local $w i32) (local $d i32)
    (local $v v128) (local $wv v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $round v128)
    (local.set $round (v128.const i32x4 2097152 2097152 2097152 2097152))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $height)))
        (local.set $base (i32.add (local.get $src) (i32.load (local.get $coef))))
        (local.set $n (i32.load offset=4 (local.get $coef)))
        (local.set $col (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $col) (local.get $rowBytes)))
            (local.set $a0 (local.get $round))
            (local.set $a1 (local.get $round))
            (local.set $a2 (local.get $round))
            (local.set $a3 (local.get $round))
            (local.set $p (i32.add (local.get $base) (local.get $col)))
            (local.set $w (i32.add (local.get $coef) (i32.const 8)))
            (local.set $t (local.get $n))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.eqz (local.get $t)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $wv (v128.load32_splat (local.get $w)))
                (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0)
                  (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $wv))))
                (local.set $a1 (i32x4.add (local.get $a1)
                  (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $wv))))
                (local.set $a2 (i32x4.add (local.get $a2)
                  (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $wv))))
                (local.set $a3 (i32x4.add (local.get $a3)
                  (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $wv))))
                (local.set $p (i32.add (local.get $p) (local.get $srcStride)))
                (local.set $w (i32.add (local.get $w) (i32.const 4)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tapLoop)))
            (v128.store
              (i32.add (local.get $dst) (local.get $col))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $col (i32.add (local.get $col) (i32.const 16)))
            (br $colLoop)))
        (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
        (local.set $coef (i32.add (local.get $coef) (local.get $coefStride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))

  ;; Normalization (preprocess.ts's normalizeInto): float32((float32(v / 255) - mean) / std) per byte, with f32
  ;; division and subtraction, which round exactly as the JS table's Math.fround of the double results does.
  ;; `params` holds 12 f32 mean values then 12 f32 std values, in the order the 12 bytes of 4 pixels are read
  ;; (NHWC: R G B R | G B R G | B R G B; NCHW: R R R R | G G G G | B B B B). `quads` groups of 4 pixels from `src`
  ;; (RGB) to `dst`: NHWC interleaved; NCHW in three planes `plane` bytes apart. Reads 4 bytes past the last pixel.
  (func (export "normalize")
    (param $src i32) (param $quads i32) (param $dst i32) (param $params i32) (param $nchw i32) (param $plane i32)
    (local $v v128) (local $lo v128) (local $hi v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $s0 v128) (local $s1 v128) (local $s2 v128)
    (local $k255 v128) (local $d1 i32) (local $d2 i32)
    (local.set $m0 (v128.load (local.get $params)))
    (local.set $m1 (v128.load offset=16 (local.get $params)))
    (local.set $m2 (v128.load offset=32 (local.get $params)))
    (local.set $s0 (v128.load offset=48 (local.get $params)))
    (local.set $s1 (v128.load offset=64 (local.get $params)))
    (local.set $s2 (v128.load offset=80 (local.get $params)))
    (local.set $k255 (f32x4.splat (f32.const 255)))
    ;; NHWC: the three vectors go to dst, dst + 16, dst + 32; NCHW: to the three planes.
    (local.set $d1 (select (local.get $plane) (i32.const 16) (local.get $nchw)))
    (local.set $d2 (i32.shl (local.get $d1) (i32.const 1)))
    (block $done
      (loop $quad
        (br_if $done (i32.eqz (local.get $quads)))
        (local.set $v (v128.load (local.get $src)))
        (if (local.get $nchw)
          (then (local.set $v (i8x16.shuffle 0 3 6 9 1 4 7 10 2 5 8 11 12 13 14 15 (local.get $v) (local.get $v)))))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store (local.get $dst) (f32x4.div (f32x4.sub
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $lo))) (local.get $k255))
          (local.get $m0)) (local.get $s0)))
        (v128.store (i32.add (local.get $dst) (local.get $d1)) (f32x4.div (f32x4.sub
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $lo))) (local.get $k255))
          (local.get $m1)) (local.get $s1)))
        (v128.store (i32.add (local.get $dst) (local.get $d2)) (f32x4.div (f32x4.sub
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $hi))) (local.get $k255))
          (local.get $m2)) (local.get $s2)))
        (local.set $src (i32.add (local.get $src) (i32.const 12)))
        (local.set $dst (i32.add (local.get $dst) (select (i32.const 16) (i32.const 48) (local.get $nchw))))
        (local.set $quads (i32.sub (local.get $quads) (i32.const 1)))
        (br $quad)))))
