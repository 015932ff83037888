;; The two passes of resize.ts in WebAssembly, with the same arithmetic in the same order (f64
;; sums of f32 weights times samples, rounded to f32 between the passes), so the bytes out are
;; resize.ts' own. The vertical pass's two-tap case (bilinear enlarging) runs four samples at a
;; time with 128-bit SIMD. `floats` turns bytes into preprocess.ts' floats for the "tf" and "none"
;; modes. Build: `node scripts/build-wasm.mjs` (writes resize-wasm.ts).
;;
;; Taps (one axis): start i32[out], count i32[out], weights f32[out * max].
(module
  (memory (export "memory") 1)

  ;; rows(src u8*, h, sw, c, dw, start, count, weights, max, out f32*): each of h rows from sw to dw pixels.
  (func (export "rows")
    (param $src i32) (param $h i32) (param $sw i32) (param $c i32) (param $dw i32)
    (param $start i32) (param $count i32) (param $weights i32) (param $max i32) (param $out i32)
    (local $y i32) (local $x i32) (local $ch i32) (local $j i32) (local $n i32)
    (local $srow i32) (local $s i32) (local $w i32) (local $acc f64) (local $w0 f64) (local $w1 f64)
    (loop $rows
      (local.set $srow (i32.add (local.get $src) (i32.mul (local.get $y) (i32.mul (local.get $sw) (local.get $c)))))
      (local.set $x (i32.const 0))
      (loop $cols
        (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $x) (i32.const 2)))))
        (local.set $ch (i32.const 0))
        (if (i32.and (i32.eq (local.get $c) (i32.const 3)) (i32.eq (local.get $n) (i32.const 2)))
          (then
            ;; RGB, two taps (bilinear enlarging): the loop below unrolled, sums in the same order
            (local.set $s (i32.add (local.get $srow)
              (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $x) (i32.const 2)))) (i32.const 3))))
            (local.set $w (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $x) (local.get $max)) (i32.const 2))))
            (local.set $w0 (f64.promote_f32 (f32.load (local.get $w))))
            (local.set $w1 (f64.promote_f32 (f32.load offset=4 (local.get $w))))
            (f32.store (local.get $out) (f32.demote_f64 (f64.add (f64.add (f64.const 0)
              (f64.mul (local.get $w0) (f64.convert_i32_u (i32.load8_u (local.get $s)))))
              (f64.mul (local.get $w1) (f64.convert_i32_u (i32.load8_u offset=3 (local.get $s)))))))
            (f32.store offset=4 (local.get $out) (f32.demote_f64 (f64.add (f64.add (f64.const 0)
              (f64.mul (local.get $w0) (f64.convert_i32_u (i32.load8_u offset=1 (local.get $s)))))
              (f64.mul (local.get $w1) (f64.convert_i32_u (i32.load8_u offset=4 (local.get $s)))))))
            (f32.store offset=8 (local.get $out) (f32.demote_f64 (f64.add (f64.add (f64.const 0)
              (f64.mul (local.get $w0) (f64.convert_i32_u (i32.load8_u offset=2 (local.get $s)))))
              (f64.mul (local.get $w1) (f64.convert_i32_u (i32.load8_u offset=5 (local.get $s)))))))
            (local.set $out (i32.add (local.get $out) (i32.const 12)))
            (local.set $ch (local.get $c))))
        (if (i32.lt_s (local.get $ch) (local.get $c)) (then
        (loop $chans
          (local.set $acc (f64.const 0))
          (local.set $s (i32.add (i32.add (local.get $srow)
            (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $x) (i32.const 2)))) (local.get $c))) (local.get $ch)))
          (local.set $w (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $x) (local.get $max)) (i32.const 2))))
          (local.set $j (i32.const 0))
          (block $done
            (loop $taps
              (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
              (local.set $acc (f64.add (local.get $acc)
                (f64.mul (f64.promote_f32 (f32.load (local.get $w))) (f64.convert_i32_u (i32.load8_u (local.get $s))))))
              (local.set $w (i32.add (local.get $w) (i32.const 4)))
              (local.set $s (i32.add (local.get $s) (local.get $c)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $taps)))
          (f32.store (local.get $out) (f32.demote_f64 (local.get $acc)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
          (br_if $chans (i32.lt_s (local.get $ch) (local.get $c))))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br_if $cols (i32.lt_s (local.get $x) (local.get $dw))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $y) (local.get $h)))))

  ;; resize.ts' toByte: clamp to 0..255, then round half up.
  (func $byte (param $v f64) (result i32)
    (if (result i32) (f64.le (local.get $v) (f64.const 0))
      (then (i32.const 0))
      (else (if (result i32) (f64.ge (local.get $v) (f64.const 255))
        (then (i32.const 255))
        (else (i32.trunc_f64_s (f64.add (local.get $v) (f64.const 0.5))))))))

  ;; cols(rows f32*, rowLen, dh, start, count, weights, max, out u8*): output row y from rows start[y] .. start[y] + count[y] - 1.
  (func (export "cols")
    (param $rows i32) (param $len i32) (param $dh i32)
    (param $start i32) (param $count i32) (param $weights i32) (param $max i32) (param $out i32)
    (local $y i32) (local $i i32) (local $j i32) (local $n i32) (local $s i32) (local $s2 i32) (local $w i32)
    (local $w0 f64) (local $w1 f64) (local $acc f64) (local $end4 i32)
    (local $vw0 v128) (local $vw1 v128) (local $a v128) (local $b v128) (local $lo v128) (local $hi v128)
    (local.set $end4 (i32.and (local.get $len) (i32.const -4)))
    (loop $outrows
      (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $y) (i32.const 2)))))
      (local.set $s (i32.add (local.get $rows)
        (i32.shl (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $y) (i32.const 2)))) (local.get $len)) (i32.const 2))))
      (local.set $w (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $y) (local.get $max)) (i32.const 2))))
      (local.set $w0 (f64.promote_f32 (f32.load (local.get $w))))
      (local.set $w1 (f64.promote_f32 (f32.load offset=4 (local.get $w))))
      (local.set $i (i32.const 0))
      (if (i32.eq (local.get $n) (i32.const 1))
        (then
          (block $d1 (loop $l1
            (br_if $d1 (i32.ge_s (local.get $i) (local.get $len)))
            (i32.store8 (i32.add (local.get $out) (local.get $i))
              (call $byte (f64.mul (local.get $w0) (f64.promote_f32 (f32.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 2))))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l1))))
        (else (if (i32.and (i32.eq (local.get $n) (i32.const 2))
                           (i32.and (f64.ge (local.get $w0) (f64.const 0)) (f64.ge (local.get $w1) (f64.const 0))))
          (then
            ;; (w0 * a + w1 * b + 0.5) | 0, four at a time: no clamp is needed, as in resize.ts
            (local.set $s2 (i32.add (local.get $s) (i32.shl (local.get $len) (i32.const 2))))
            (local.set $vw0 (f64x2.splat (local.get $w0)))
            (local.set $vw1 (f64x2.splat (local.get $w1)))
            (block $d4 (loop $l4
              (br_if $d4 (i32.ge_s (local.get $i) (local.get $end4)))
              (local.set $a (v128.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $b (v128.load (i32.add (local.get $s2) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $lo (i32x4.trunc_sat_f64x2_s_zero (f64x2.add (f64x2.add
                (f64x2.mul (local.get $vw0) (f64x2.promote_low_f32x4 (local.get $a)))
                (f64x2.mul (local.get $vw1) (f64x2.promote_low_f32x4 (local.get $b)))) (f64x2.splat (f64.const 0.5)))))
              (local.set $hi (i32x4.trunc_sat_f64x2_s_zero (f64x2.add (f64x2.add
                (f64x2.mul (local.get $vw0) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))
                (f64x2.mul (local.get $vw1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))) (f64x2.splat (f64.const 0.5)))))
              ;; lanes 0, 1 of lo and of hi: four i32 in 0..255, narrowed to four bytes
              (local.set $lo (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi)))
              (local.set $lo (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_u (local.get $lo) (local.get $lo)) (local.get $lo)))
              (i32.store (i32.add (local.get $out) (local.get $i)) (i32x4.extract_lane 0 (local.get $lo)))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br $l4)))
            (block $d2 (loop $l2
              (br_if $d2 (i32.ge_s (local.get $i) (local.get $len)))
              (i32.store8 (i32.add (local.get $out) (local.get $i))
                (i32.trunc_f64_s (f64.add (f64.add
                  (f64.mul (local.get $w0) (f64.promote_f32 (f32.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 2))))))
                  (f64.mul (local.get $w1) (f64.promote_f32 (f32.load (i32.add (local.get $s2) (i32.shl (local.get $i) (i32.const 2)))))))
                  (f64.const 0.5))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l2))))
          (else
            (block $dn (loop $ln
              (br_if $dn (i32.ge_s (local.get $i) (local.get $len)))
              (local.set $acc (f64.const 0))
              (local.set $j (i32.const 0))
              (block $dj (loop $lj
                (br_if $dj (i32.ge_s (local.get $j) (local.get $n)))
                (local.set $acc (f64.add (local.get $acc) (f64.mul
                  (f64.promote_f32 (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $s)
                    (i32.shl (i32.add (i32.mul (local.get $j) (local.get $len)) (local.get $i)) (i32.const 2))))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $lj)))
              (i32.store8 (i32.add (local.get $out) (local.get $i)) (call $byte (local.get $acc)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $ln)))))))
      (local.set $out (i32.add (local.get $out) (local.get $len)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $outrows (i32.lt_s (local.get $y) (local.get $dh)))))

  ;; floats(src u8*, n, out f32*, sub, div): out[i] = (f32(src[i]) - sub) / div, sixteen bytes at a
  ;; time. For sub = div = 127.5 (MobileNet's "tf" preprocessing) this is, for every byte value, the
  ;; float32 that preprocess.ts computes as x * (1 / 127.5) - 1 in f64: x - 127.5 is exact in f32
  ;; and the one division rounds once. sub 0, div 1 gives the bytes as floats.
  (func (export "floats") (param $src i32) (param $n i32) (param $out i32) (param $sub f32) (param $div f32)
    (local $i i32) (local $o i32) (local $v v128) (local $lo v128) (local $hi v128) (local $s v128) (local $d v128)
    (local.set $s (f32x4.splat (local.get $sub)))
    (local.set $d (f32x4.splat (local.get $div)))
    (block $done (loop $vec
      (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
      (local.set $v (v128.load (i32.add (local.get $src) (local.get $i))))
      (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
      (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
      (v128.store (local.get $o)
        (f32x4.div (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $lo))) (local.get $s)) (local.get $d)))
      (v128.store offset=16 (local.get $o)
        (f32x4.div (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $lo))) (local.get $s)) (local.get $d)))
      (v128.store offset=32 (local.get $o)
        (f32x4.div (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $hi))) (local.get $s)) (local.get $d)))
      (v128.store offset=48 (local.get $o)
        (f32x4.div (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $hi))) (local.get $s)) (local.get $d)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vec)))
    (block $end (loop $tail
      (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.div (f32.sub (f32.convert_i32_u (i32.load8_u (i32.add (local.get $src) (local.get $i)))) (local.get $sub)) (local.get $div)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail))))

  ;; warp(src u8*, h, w, bx, by, axx, axy, ayx, ayy, cy, lut, rev, out): augment.ts' bilinear warp
  ;; of an h x w RGB image, in augment.ts' f32 arithmetic, four output pixels at a time. Output
  ;; pixel (x, y) samples the source at (rx + axx * x, ry + ayx * x), clamped to the image, with
  ;; rx = bx + axy * (y - cy) and ry = by + ayy * (y - cy). With lut = 0 it writes the bytes (3 a
  ;; pixel) to out; otherwise the floats lut[k * 256 + byte] of output channel k (3 tables of 256
  ;; f32), with the source's R and B in swapped places when rev (caffe's BGR). src must have one
  ;; readable byte past its end: each corner is read as four bytes. The four pixels' code is
  ;; written out four times (lane numbers are immediates); conversions are the signed ones, which
  ;; x86 has as single instructions, exact here as every value is 0..256.
  (func (export "warp")
    (param $src i32) (param $h i32) (param $w i32)
    (param $bx f32) (param $by f32) (param $axx f32) (param $axy f32) (param $ayx f32) (param $ayy f32) (param $cy f32)
    (param $lut i32) (param $rev i32) (param $out i32)
    (local $y i32) (local $x i32) (local $lanes i32) (local $dy f32) (local $r i32) (local $g i32) (local $b i32) (local $t i32)
    (local $rx v128) (local $ry v128) (local $xs v128) (local $sx v128) (local $sy v128) (local $v v128)
    (local $x0 v128) (local $y0 v128) (local $x1 v128) (local $y1 v128) (local $ax v128) (local $ay v128)
    (local $i00 v128) (local $i01 v128) (local $i10 v128) (local $i11 v128)
    (local $w00 v128) (local $w01 v128) (local $w10 v128) (local $w11 v128) (local $one v128) (local $zero v128)
    (local $maxXf v128) (local $maxYf v128) (local $maxXi v128) (local $maxYi v128) (local $stride v128) (local $base v128)
    (local.set $maxXf (f32x4.splat (f32.convert_i32_s (i32.sub (local.get $w) (i32.const 1)))))
    (local.set $maxYf (f32x4.splat (f32.convert_i32_s (i32.sub (local.get $h) (i32.const 1)))))
    (local.set $maxXi (i32x4.splat (i32.sub (local.get $w) (i32.const 1))))
    (local.set $maxYi (i32x4.splat (i32.sub (local.get $h) (i32.const 1))))
    (local.set $stride (i32x4.splat (i32.mul (local.get $w) (i32.const 3))))
    (local.set $base (i32x4.splat (local.get $src)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (loop $rows
      (local.set $dy (f32.sub (f32.convert_i32_s (local.get $y)) (local.get $cy)))
      (local.set $rx (f32x4.splat (f32.add (local.get $bx) (f32.mul (local.get $axy) (local.get $dy)))))
      (local.set $ry (f32x4.splat (f32.add (local.get $by) (f32.mul (local.get $ayy) (local.get $dy)))))
      (local.set $xs (v128.const f32x4 0 1 2 3))
      (local.set $x (i32.const 0))
      (loop $cols
        ;; the source points of pixels x .. x + 3, clamped (nearest-edge fill), their corners' byte
        ;; offsets and their weights
        (local.set $sx (f32x4.pmin (f32x4.pmax (local.get $zero)
          (f32x4.add (local.get $rx) (f32x4.mul (f32x4.splat (local.get $axx)) (local.get $xs)))) (local.get $maxXf)))
        (local.set $sy (f32x4.pmin (f32x4.pmax (local.get $zero)
          (f32x4.add (local.get $ry) (f32x4.mul (f32x4.splat (local.get $ayx)) (local.get $xs)))) (local.get $maxYf)))
        (local.set $x0 (i32x4.trunc_sat_f32x4_s (local.get $sx)))
        (local.set $y0 (i32x4.trunc_sat_f32x4_s (local.get $sy)))
        (local.set $ax (f32x4.sub (local.get $sx) (f32x4.convert_i32x4_s (local.get $x0))))
        (local.set $ay (f32x4.sub (local.get $sy) (f32x4.convert_i32x4_s (local.get $y0))))
        (local.set $x1 (i32x4.mul (i32x4.min_s (i32x4.add (local.get $x0) (i32x4.splat (i32.const 1))) (local.get $maxXi)) (i32x4.splat (i32.const 3))))
        (local.set $y1 (i32x4.add (local.get $base) (i32x4.mul (i32x4.min_s (i32x4.add (local.get $y0) (i32x4.splat (i32.const 1))) (local.get $maxYi)) (local.get $stride))))
        (local.set $x0 (i32x4.mul (local.get $x0) (i32x4.splat (i32.const 3))))
        (local.set $y0 (i32x4.add (local.get $base) (i32x4.mul (local.get $y0) (local.get $stride))))
        (local.set $i00 (i32x4.add (local.get $y0) (local.get $x0)))
        (local.set $i01 (i32x4.add (local.get $y0) (local.get $x1)))
        (local.set $i10 (i32x4.add (local.get $y1) (local.get $x0)))
        (local.set $i11 (i32x4.add (local.get $y1) (local.get $x1)))
        (local.set $w00 (f32x4.mul (f32x4.sub (local.get $one) (local.get $ax)) (f32x4.sub (local.get $one) (local.get $ay))))
        (local.set $w01 (f32x4.mul (local.get $ax) (f32x4.sub (local.get $one) (local.get $ay))))
        (local.set $w10 (f32x4.mul (f32x4.sub (local.get $one) (local.get $ax)) (local.get $ay)))
        (local.set $w11 (f32x4.mul (local.get $ax) (local.get $ay)))
        (local.set $lanes (i32.sub (local.get $w) (local.get $x)))
        ;; pixel x + 0: R, G, B (and a fourth byte, unused) of each corner, weighted in augment.ts' order
        (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.add (f32x4.add (f32x4.add (f32x4.add
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 0 (local.get $i00)))))) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w00) (local.get $w00)))
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 0 (local.get $i01)))))) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w01) (local.get $w01))))
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 0 (local.get $i10)))))) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w10) (local.get $w10))))
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 0 (local.get $i11)))))) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w11) (local.get $w11))))
          (f32x4.splat (f32.const 0.5)))))
        (local.set $r (i32x4.extract_lane 0 (local.get $v)))
        (local.set $g (i32x4.extract_lane 1 (local.get $v)))
        (local.set $b (i32x4.extract_lane 2 (local.get $v)))
        (if (i32.eqz (local.get $lut))
          (then
            (i32.store8 (local.get $out) (local.get $r))
            (i32.store8 offset=1 (local.get $out) (local.get $g))
            (i32.store8 offset=2 (local.get $out) (local.get $b))
            (local.set $out (i32.add (local.get $out) (i32.const 3))))
          (else
            (if (local.get $rev) (then (local.set $t (local.get $r)) (local.set $r (local.get $b)) (local.set $b (local.get $t))))
            (f32.store (local.get $out) (f32.load (i32.add (local.get $lut) (i32.shl (local.get $r) (i32.const 2)))))
            (f32.store offset=4 (local.get $out) (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (local.get $g) (i32.const 2)))))
            (f32.store offset=8 (local.get $out) (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (local.get $b) (i32.const 2)))))
            (local.set $out (i32.add (local.get $out) (i32.const 12)))))
        (if (i32.gt_s (local.get $lanes) (i32.const 1)) (then
          ;; pixel x + 1: R, G, B (and a fourth byte, unused) of each corner, weighted in augment.ts' order
          (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.add (f32x4.add (f32x4.add (f32x4.add
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 1 (local.get $i00)))))) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w00) (local.get $w00)))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 1 (local.get $i01)))))) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w01) (local.get $w01))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 1 (local.get $i10)))))) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w10) (local.get $w10))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 1 (local.get $i11)))))) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w11) (local.get $w11))))
            (f32x4.splat (f32.const 0.5)))))
          (local.set $r (i32x4.extract_lane 0 (local.get $v)))
          (local.set $g (i32x4.extract_lane 1 (local.get $v)))
          (local.set $b (i32x4.extract_lane 2 (local.get $v)))
          (if (i32.eqz (local.get $lut))
            (then
              (i32.store8 (local.get $out) (local.get $r))
              (i32.store8 offset=1 (local.get $out) (local.get $g))
              (i32.store8 offset=2 (local.get $out) (local.get $b))
              (local.set $out (i32.add (local.get $out) (i32.const 3))))
            (else
              (if (local.get $rev) (then (local.set $t (local.get $r)) (local.set $r (local.get $b)) (local.set $b (local.get $t))))
              (f32.store (local.get $out) (f32.load (i32.add (local.get $lut) (i32.shl (local.get $r) (i32.const 2)))))
              (f32.store offset=4 (local.get $out) (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (local.get $g) (i32.const 2)))))
              (f32.store offset=8 (local.get $out) (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (local.get $b) (i32.const 2)))))
              (local.set $out (i32.add (local.get $out) (i32.const 12)))))))
        (if (i32.gt_s (local.get $lanes) (i32.const 2)) (then
          ;; pixel x + 2: R, G, B (and a fourth byte, unused) of each corner, weighted in augment.ts' order
          (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.add (f32x4.add (f32x4.add (f32x4.add
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 2 (local.get $i00)))))) (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w00) (local.get $w00)))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 2 (local.get $i01)))))) (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w01) (local.get $w01))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 2 (local.get $i10)))))) (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w10) (local.get $w10))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 2 (local.get $i11)))))) (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w11) (local.get $w11))))
            (f32x4.splat (f32.const 0.5)))))
          (local.set $r (i32x4.extract_lane 0 (local.get $v)))
          (local.set $g (i32x4.extract_lane 1 (local.get $v)))
          (local.set $b (i32x4.extract_lane 2 (local.get $v)))
          (if (i32.eqz (local.get $lut))
            (then
              (i32.store8 (local.get $out) (local.get $r))
              (i32.store8 offset=1 (local.get $out) (local.get $g))
              (i32.store8 offset=2 (local.get $out) (local.get $b))
              (local.set $out (i32.add (local.get $out) (i32.const 3))))
            (else
              (if (local.get $rev) (then (local.set $t (local.get $r)) (local.set $r (local.get $b)) (local.set $b (local.get $t))))
              (f32.store (local.get $out) (f32.load (i32.add (local.get $lut) (i32.shl (local.get $r) (i32.const 2)))))
              (f32.store offset=4 (local.get $out) (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (local.get $g) (i32.const 2)))))
              (f32.store offset=8 (local.get $out) (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (local.get $b) (i32.const 2)))))
              (local.set $out (i32.add (local.get $out) (i32.const 12)))))))
        (if (i32.gt_s (local.get $lanes) (i32.const 3)) (then
          ;; pixel x + 3: R, G, B (and a fourth byte, unused) of each corner, weighted in augment.ts' order
          (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.add (f32x4.add (f32x4.add (f32x4.add
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 3 (local.get $i00)))))) (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w00) (local.get $w00)))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 3 (local.get $i01)))))) (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w01) (local.get $w01))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 3 (local.get $i10)))))) (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w10) (local.get $w10))))
            (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32x4.extract_lane 3 (local.get $i11)))))) (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w11) (local.get $w11))))
            (f32x4.splat (f32.const 0.5)))))
          (local.set $r (i32x4.extract_lane 0 (local.get $v)))
          (local.set $g (i32x4.extract_lane 1 (local.get $v)))
          (local.set $b (i32x4.extract_lane 2 (local.get $v)))
          (if (i32.eqz (local.get $lut))
            (then
              (i32.store8 (local.get $out) (local.get $r))
              (i32.store8 offset=1 (local.get $out) (local.get $g))
              (i32.store8 offset=2 (local.get $out) (local.get $b))
              (local.set $out (i32.add (local.get $out) (i32.const 3))))
            (else
              (if (local.get $rev) (then (local.set $t (local.get $r)) (local.set $r (local.get $b)) (local.set $b (local.get $t))))
              (f32.store (local.get $out) (f32.load (i32.add (local.get $lut) (i32.shl (local.get $r) (i32.const 2)))))
              (f32.store offset=4 (local.get $out) (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (local.get $g) (i32.const 2)))))
              (f32.store offset=8 (local.get $out) (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (local.get $b) (i32.const 2)))))
              (local.set $out (i32.add (local.get $out) (i32.const 12)))))))
        (local.set $xs (f32x4.add (local.get $xs) (f32x4.splat (f32.const 4))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br_if $cols (i32.lt_s (local.get $x) (local.get $w))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $y) (local.get $h)))))
)
