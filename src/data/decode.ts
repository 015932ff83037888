import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import sharp, { type Metadata, type Sharp } from "sharp";
import type { Interpolation } from "../config/types";
import { TlrunError } from "../errors";
import type { DecodeOptions } from "./decode-options";
import { decodePngFast, probePngFast, tooManyPixels } from "./decode-png";
import { decodeOnWorker, decodeWorkersAvailable, finishOnWorker, type WorkerReply } from "./decode-pool";
import { finishInto, sharedTarget, type FinishTarget } from "./finish";
import { PngDataError } from "./png";
import { rgbToGray } from "./preprocess";

export type { DecodeOptions }; // its home is decode-options.ts, which the PNG path and the pool share without importing this file

export type ProbeResult = { ok: true; width: number; height: number; format: string } | { ok: false; reason: string };

/**
 * Decode an image file to uint8 HWC pixels of exactly `size` (3 channels for rgb, 1 for grayscale).
 * EXIF orientation is applied; CMYK, 16-bit, palette and grayscale inputs become 8-bit sRGB.
 * Transparent pixels are flattened onto WHITE: emoji and logos are dark shapes on a transparent
 * background whose hidden RGB is often black, so a black matte would erase their outline.
 * Resizing squashes to the target (fit "fill"), as Keras' load_img does, rather than cropping:
 * no part of the object is cut away. Grayscale is ITU-R 601 luma of the sRGB pixels, as PIL's
 * convert("L"). Plain PNGs take the JS path (decode-png.ts), on a worker thread when there are
 * any (decode-pool.ts); everything else goes to sharp. Throws a TlrunError naming the file and a
 * short reason. Repeat decodes of an unchanged file at the same size come from the pixel cache
 * (below); the caller always gets its own copy.
 */
export async function decodeImage(abs: string, opts: DecodeOptions): Promise<Uint8Array> {
  const key = cacheKey(abs, opts);
  const stamp = cache.maxBytes > 0 ? fileStamp(abs) : undefined;
  if (stamp === undefined) return decodeFile(abs, opts);
  const known = cachedOrRunning(key, stamp);
  if (known) return (await known).slice();
  const px = decodeFile(abs, opts);
  cache.decodes++;
  const entry = { stamp, px };
  inflight.set(key, entry);
  try {
    const out = await px;
    remember(key, stamp, out.slice());
    return out;
  } finally {
    if (inflight.get(key) === entry) inflight.delete(key);
  }
}

/**
 * Decode `abs` and finish it into `t` (finish.ts: augmentation, floats), as
 * `finishInto(await decodeImage(abs, opts), ...)` would, but with the pixel work off this thread
 * where it can be: when `t.out` is shared memory and there are decode workers, a PNG is decoded
 * and finished on a worker, and an image already in the pixel cache goes to a worker to be
 * finished. Only the pixels for the cache come back. Anything a worker does not take (sharp's
 * files, damaged files, a failed pool) is decoded and finished here, with decodeImage's errors.
 */
export async function decodeInto(abs: string, opts: DecodeOptions, t: FinishTarget): Promise<void> {
  const [h, w] = opts.size;
  if (!sharedTarget(t.out) || !forWorkers(abs) || !decodeWorkersAvailable()) return finishInto(await decodeImage(abs, opts), h, w, t);
  const key = cacheKey(abs, opts);
  const stamp = cache.maxBytes > 0 ? fileStamp(abs) : undefined;
  const cached = stamp === undefined ? undefined : cachedOrRunning(key, stamp);
  if (cached) {
    const known = await cached;
    const done = await finishOnWorker(known, opts, t);
    return done && "written" in done ? undefined : finishInto(known, h, w, t);
  }
  const asked = decodeOnWorker(abs, opts, { into: t, keep: stamp !== undefined });
  if (stamp === undefined) {
    const reply = await asked;
    if (!reply || !("written" in reply)) finishInto(await decodeFile(abs, opts, { reply }), h, w, t);
    return;
  }
  // the pixels, for the cache and for a request of the same file while this one runs (the
  // extract stage asks for a chunk's views right after its plain images)
  const px = asked.then((reply) => (reply && "px" in reply ? reply.px : decodeFile(abs, opts, { reply })));
  const entry = { stamp, px };
  inflight.set(key, entry);
  cache.decodes++;
  try {
    const reply = await asked;
    const pixels = await px;
    remember(key, stamp, pixels);
    if (!reply || !("written" in reply)) finishInto(pixels, h, w, t);
  } finally {
    if (inflight.get(key) === entry) inflight.delete(key);
  }
}

const cacheKey = (abs: string, opts: DecodeOptions): string => `${abs}\0${opts.size[0]}x${opts.size[1]}\0${opts.colorMode}\0${opts.interpolation}\0${opts.maxPixels}`;

/**
 * The cached pixels of `key` when they are still `stamp`'s (the cache's own array: copy it
 * before handing it out), or those of a decode of it already under way (warmPixelCache's), joined
 * rather than repeated. Synchronous when there is neither, so a caller that starts a decode
 * registers it in `inflight` before anyone else can look.
 */
function cachedOrRunning(key: string, stamp: string): Uint8Array | Promise<Uint8Array> | undefined {
  const hit = cache.entries.get(key);
  if (hit && hit.stamp === stamp) {
    cache.entries.delete(key); // re-insert: Map order is the LRU order
    cache.entries.set(key, hit);
    return hit.px;
  }
  const running = inflight.get(key);
  return running?.stamp === stamp ? running.px : undefined;
}

/** Decodes under way that will land in the pixel cache, by cache key. */
const inflight = new Map<string, { stamp: string; px: Promise<Uint8Array> }>();

/** Images warmPixelCache starts at most: enough to cover a stage's setup, about 50 MB at 128 px. */
const WARM_MAX = 1024;

/**
 * Start decoding the first of `paths` into the pixel cache, all at once, without waiting: a
 * stage calls it before its slow synchronous setup (building and compiling the model), so the
 * decode workers fill the cache on the cores setup leaves idle, and the loader's first batches
 * then come from the cache or join a decode already running. As many images as fit half the
 * cache's budget, up to WARM_MAX. Failures are dropped here: the loader decodes that file again
 * and reports it. Only PNGs, and only with decode workers: any other decode would start on this
 * thread (a synchronous read, or the JS decoder itself) and hold up the setup it is meant to
 * overlap.
 */
export function warmPixelCache(paths: readonly string[], opts: DecodeOptions): void {
  if (!decodeWorkersAvailable()) return;
  const per = opts.size[0] * opts.size[1] * (opts.colorMode === "grayscale" ? 1 : 3);
  const n = Math.min(paths.length, WARM_MAX, Math.floor(cache.maxBytes / 2 / per));
  for (let i = 0; i < n; i++) if (forWorkers(paths[i]!)) decodeImage(paths[i]!, opts).catch(() => undefined);
}

/** Files the decode workers take (when there are any); the rest start on this thread. */
const forWorkers = (abs: string): boolean => /\.png$/i.test(abs);

/** Decode `abs`, on a worker if it takes the file; `asked` is a worker's answer already in hand. */
async function decodeFile(abs: string, opts: DecodeOptions, asked?: { reply: WorkerReply | undefined }): Promise<Uint8Array> {
  const reply = asked ? asked.reply : forWorkers(abs) ? await decodeOnWorker(abs, opts) : undefined;
  if (reply && "px" in reply) return reply.px;
  let buf: Buffer | undefined;
  try {
    if (reply && "reason" in reply) throw new PngDataError(reply.reason);
    // Synchronous on purpose: a sync read of a typical dataset file costs ~10 µs of this thread,
    // fs.promises.readFile ~90 µs of promise and FileHandle work, and decoding is CPU-bound.
    buf = readFileSync(abs);
    if (reply && "error" in reply) throw new Error(reply.error);
    // a worker that answered "sharp" has already tried the JS path
    return (reply ? undefined : decodePngFast(buf, opts)) ?? (await decodeSharp(buf, opts));
  } catch (err) {
    const reason = err instanceof PngDataError ? err.message : buf === undefined ? "cannot read file" : await reasonFor(err, buf, opts.maxPixels);
    throw new TlrunError(`cannot decode ${abs}: ${reason}\n  hint: the file may have changed since 'prepare'; run it again`);
  }
}

async function decodeSharp(buf: Buffer, opts: DecodeOptions): Promise<Uint8Array> {
  const [h, w] = opts.size;
  const { data, info } = await pipeline(buf, opts.maxPixels, w, h, opts.interpolation).toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== 3) {
    throw new Error(`unexpected output ${info.width}x${info.height}x${info.channels}`);
  }
  const px = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return opts.colorMode === "grayscale" ? rgbToGray(px) : px;
}

/**
 * Decoded pixels at the output size, kept between passes over the same files (the extract
 * stage's augmented copies, fine-tune epochs), so each file is decoded once per run. Entries
 * are keyed by path and output shape and checked against the file's inode, size and mtime;
 * the least recently used go first once `maxBytes` is reached, so memory stays bounded.
 * TLRUN_PIXEL_CACHE_MB sets the budget (default 128; 0 turns the cache off).
 */
const cache = {
  maxBytes: envMegabytes("TLRUN_PIXEL_CACHE_MB", 128),
  bytes: 0,
  entries: new Map<string, { stamp: string; px: Uint8Array }>(),
  /** Decodes started for the cache, ever. */
  decodes: 0,
};

/** What the pixel cache holds, what it is decoding, and how many decodes it has started. */
export function pixelCacheStats(): { images: number; bytes: number; decoding: number; decodes: number } {
  return { images: cache.entries.size, bytes: cache.bytes, decoding: inflight.size, decodes: cache.decodes };
}

function envMegabytes(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return (Number.isFinite(v) && v >= 0 ? v : fallback) * 2 ** 20;
}

function fileStamp(abs: string): string | undefined {
  try {
    const st = statSync(abs, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return undefined;
  }
}

function remember(key: string, stamp: string, px: Uint8Array): void {
  const old = cache.entries.get(key);
  if (old) (cache.bytes -= old.px.byteLength), cache.entries.delete(key);
  if (px.byteLength > cache.maxBytes) return;
  cache.entries.set(key, { stamp, px });
  cache.bytes += px.byteLength;
  evict();
}

function evict(): void {
  for (const [k, e] of cache.entries) {
    if (cache.bytes <= cache.maxBytes) break;
    cache.entries.delete(k);
    cache.bytes -= e.px.byteLength;
  }
}

/** Set the decoded-pixel cache budget; returns the previous setting. 0 turns the cache off. */
export function configurePixelCache(o: { maxBytes: number }): { maxBytes: number } {
  const prev = { maxBytes: cache.maxBytes };
  cache.maxBytes = Math.max(0, o.maxBytes);
  evict();
  return prev;
}

/** The pixel cache's budget in bytes (0: off). */
export const pixelCacheBudget = (): number => cache.maxBytes;

/** Drop every cached decode. */
export function clearPixelCache(): void {
  cache.entries.clear();
  inflight.clear();
  cache.bytes = 0;
}

/** Check that a file decodes completely, without keeping its pixels. Used by the prepare stage. */
export async function probeImage(abs: string, maxPixels: number): Promise<ProbeResult> {
  let buf: Buffer;
  try {
    buf = await readFile(abs);
  } catch (err) {
    return { ok: false, reason: `cannot read file (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
  return probeBuffer(buf, maxPixels);
}

/** `probeImage` on bytes already read (the manifest hashes the same buffer). */
export async function probeBuffer(buf: Buffer, maxPixels: number): Promise<ProbeResult> {
  try {
    // A full decode is the only way to notice a truncated file: headers survive truncation.
    const png = probePngFast(buf, maxPixels);
    if (png) return { ok: true, ...png, format: "png" };
    const meta = await header(buf);
    const width = meta.autoOrient?.width ?? meta.width ?? 0;
    const height = meta.autoOrient?.height ?? meta.height ?? 0;
    if (width * height > maxPixels) return { ok: false, reason: tooManyPixels(width, height, maxPixels) };
    await pipeline(buf, maxPixels, 8, 8, "bilinear").toBuffer();
    return { ok: true, width, height, format: meta.format ?? "unknown" };
  } catch (err) {
    return { ok: false, reason: await reasonFor(err, buf, maxPixels) };
  }
}

/** sharp's names for the resampling kernels. */
const SHARP_KERNEL = { nearest: "nearest", bilinear: "linear", bicubic: "cubic", lanczos3: "lanczos3" } as const;

/** sRGB out, always three channels: grayscale is converted in JS, the same way as the JS path. */
function pipeline(input: Buffer, maxPixels: number, w: number, h: number, interpolation: Interpolation): Sharp {
  // failOn "error" rejects truncated and corrupt data but tolerates harmless warnings (e.g. an odd ICC profile).
  const s = sharp(input, { failOn: "error", limitInputPixels: maxPixels, sequentialRead: true })
    .autoOrient()
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace("srgb")
    .removeAlpha()
    .resize(w, h, { fit: "fill", kernel: SHARP_KERNEL[interpolation] });
  return s.raw({ depth: "uchar" });
}

/** Header only: dimensions and format, with no pixel limit (nothing is decoded here). */
function header(buf: Buffer): Promise<Metadata> {
  return sharp(buf, { limitInputPixels: false }).metadata();
}

/** Map a decoder failure to a short reason a user can act on. */
async function reasonFor(err: unknown, buf: Buffer, maxPixels: number): Promise<string> {
  if (err instanceof TlrunError || err instanceof PngDataError) return err.message;
  const msg = err instanceof Error ? err.message : String(err);
  if (buf.length === 0) return "zero bytes";
  if (/pixel limit/i.test(msg)) {
    const meta = await header(buf).catch(() => undefined);
    return meta?.width && meta.height ? tooManyPixels(meta.width, meta.height, maxPixels) : "too many pixels";
  }
  if (buf.subarray(0, 2).toString("latin1") === "BM") return "unsupported format (BMP)";
  if (/unsupported image format/i.test(msg)) return "not an image";
  if (/premature end|unexpected end|end of file|insufficient input|truncat|bad seek/i.test(msg)) return "truncated";
  if (/libpng read error/i.test(msg)) return endsWithIend(buf) ? "corrupt image data" : "truncated";
  if (/unsupported (feature|codec|compression)|no decoder/i.test(msg)) return "unsupported format";
  return `corrupt image data (${msg.split("\n")[0]!.slice(0, 80)})`;
}

/** A complete PNG ends with the 12-byte IEND chunk. */
function endsWithIend(buf: Buffer): boolean {
  return buf.length >= 12 && buf.subarray(buf.length - 8, buf.length - 4).toString("latin1") === "IEND";
}
