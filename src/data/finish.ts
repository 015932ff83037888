/**
 * The last step of loading an image: decoded uint8 pixels, augmented when asked, turned into the
 * base model's float input and written into a batch buffer. It loads neither sharp nor
 * TensorFlow, so the decode workers run it too (decode-worker.ts): when the batch buffer is
 * shared memory they write an image's floats straight into it, and the main thread never
 * touches its pixels.
 */
import { applyAugment, augmentInto, type AugmentParams } from "./augment";
import { grayToRgb, toFloatInput, type PreprocessMode } from "./preprocess";

/** Where and how one image's floats go: `out` from `offset`, always three channels. */
export interface FinishTarget {
  out: Float32Array;
  offset: number;
  preprocessing: PreprocessMode;
  /** The image's random augmentation; none for eval. */
  augment?: AugmentParams;
}

/** Write `px` (HWC, 1 or 3 channels, `h` x `w`) as floats into `t`. */
export function finishInto(px: Uint8Array, h: number, w: number, t: FinishTarget): void {
  const c = px.length === h * w ? 1 : 3;
  if (px.length !== h * w * c) throw new RangeError(`finishInto: ${px.length} bytes is not ${h}x${w}x1 or x3`);
  // RGB augments and converts in one pass (augment.ts); grey augments its one channel, then is tripled
  if (t.augment && c === 3) return augmentInto(px, h, w, t.augment, t.out, t.offset, t.preprocessing);
  const bytes = t.augment ? applyAugment(px, h, w, c, t.augment) : px;
  toFloatInput(c === 1 ? grayToRgb(bytes) : bytes, t.out, t.offset, t.preprocessing, 3);
}

/** Whether the decode workers can write into `out` (it is shared memory). */
export const sharedTarget = (out: Float32Array): boolean => typeof SharedArrayBuffer !== "undefined" && out.buffer instanceof SharedArrayBuffer;
