import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import sharp, { type OutputInfo } from "sharp";
import { TlrunError } from "../errors";
import { perceptualSignature } from "./pixel-signature";
import type { ImageSignature } from "./types";

/**
 * The pixel signatures of every image, in the order given: sha256 of the decoded RGBA pixels and
 * the perceptual hash and two colour thumbnails (4×4 and 16×16), all from one decode. sharp decodes at the file's own size (EXIF
 * orientation applied, so a rotated re-save of the same photo still matches) on libuv's threads;
 * `concurrency` files are in flight at once. A file that does not decode throws a TlrunError
 * naming it: the audit runs on the manifest, whose images the prepare stage already read.
 */
export async function imageSignatures(
  paths: readonly string[], opts: { concurrency?: number; onProgress?(done: number): void } = {},
): Promise<ImageSignature[]> {
  const out: ImageSignature[] = new Array(paths.length);
  const concurrency = Math.max(1, opts.concurrency ?? 2 * availableParallelism());
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await signatureOf(paths[i]!);
      opts.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}

/** One image's signature. */
export async function signatureOf(path: string): Promise<ImageSignature> {
  const { rgba, width, height } = await decodeRgba(path);
  return { pixels: pixelsHash(rgba, width, height), ...perceptualSignature(rgba, width, height) };
}

/** The decoded RGBA pixels every signature is taken from (exported so the bench times the same decode). */
export async function decodeRgba(path: string): Promise<{ rgba: Uint8Array; width: number; height: number }> {
  let px: { data: Buffer; info: OutputInfo };
  try {
    px = await sharp(path, { failOn: "error" }).rotate().toColourspace("srgb").ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new TlrunError(`${path}: cannot read the image for the audit (${(err as Error).message})`);
  }
  const { data, info } = px;
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** The exact-duplicate key: sha256 of `WxH` and the RGBA bytes (the same bytes at another width are another picture). */
export function pixelsHash(rgba: Uint8Array, width: number, height: number): string {
  return createHash("sha256").update(`${width}x${height}\n`).update(rgba).digest("hex");
}
