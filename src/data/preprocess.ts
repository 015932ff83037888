/**
 * Turn uint8 pixels into the float input a base model expects, written straight into a batch
 * buffer. The modes match keras.applications' `preprocess_input`.
 */
export type PreprocessMode = "tf" | "caffe" | "torch" | "none";

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
const TORCH_STD = [0.229, 0.224, 0.225] as const;
const avg = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * Write `pixels` (HWC, `channels` per pixel) into `out` from `offset`.
 * tf: x/127.5 - 1 (range -1..1, MobileNet). caffe: RGB to BGR, then subtract the ImageNet BGR
 * means (VGG, ResNet50). torch: x/255, then per-channel ImageNet mean/std (DenseNet).
 * none: 0..255 as floats (models that rescale inside, e.g. EfficientNet).
 * One-channel input uses the average of the three means and stds.
 */
export function toFloatInput(pixels: Uint8Array, out: Float32Array, offset: number, mode: PreprocessMode, channels: 1 | 3): void {
  const n = pixels.length;
  if (offset < 0 || offset + n > out.length) throw new RangeError(`batch buffer too small: need ${offset + n}, have ${out.length}`);
  if (mode === "none") {
    for (let i = 0; i < n; i++) out[offset + i] = pixels[i]!;
  } else if (mode === "tf") {
    for (let i = 0; i < n; i++) out[offset + i] = pixels[i]! / 127.5 - 1;
  } else if (channels === 1) {
    const mean = mode === "caffe" ? avg(CAFFE_MEAN_BGR) : avg(TORCH_MEAN) * 255;
    const scale = mode === "caffe" ? 1 : 1 / (avg(TORCH_STD) * 255);
    for (let i = 0; i < n; i++) out[offset + i] = (pixels[i]! - mean) * scale;
  } else if (mode === "caffe") {
    const [mb, mg, mr] = CAFFE_MEAN_BGR;
    for (let i = 0; i < n; i += 3) {
      out[offset + i] = pixels[i + 2]! - mb;
      out[offset + i + 1] = pixels[i + 1]! - mg;
      out[offset + i + 2] = pixels[i]! - mr;
    }
  } else {
    const m = TORCH_MEAN.map((v) => v * 255);
    const s = TORCH_STD.map((v) => 1 / (v * 255));
    for (let i = 0; i < n; i += 3) {
      out[offset + i] = (pixels[i]! - m[0]!) * s[0]!;
      out[offset + i + 1] = (pixels[i + 1]! - m[1]!) * s[1]!;
      out[offset + i + 2] = (pixels[i + 2]! - m[2]!) * s[2]!;
    }
  }
}

/** Replicate one grayscale channel into three, for a 3-channel model fed grayscale images. */
export function grayToRgb(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 3);
  for (let i = 0, o = 0; i < gray.length; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = gray[i]!;
  return out;
}
