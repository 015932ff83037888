/**
 * A PNG decoder on node's zlib for the files that make up most image datasets: not interlaced,
 * at most 8 bits per sample, no colour management. It skips sharp's per-call overhead, which
 * dominates for small images. Pixels come out as libvips would give them after flattening onto
 * white. `readPng` answers undefined for anything it would not decode exactly as sharp does
 * (interlaced, 16-bit, iCCP/sRGB/gAMA/cHRM, eXIf orientation, APNG, odd headers, ...), and the
 * caller hands those to sharp. Corrupt or truncated data throws a PngDataError whose message is
 * the short reason the prepare report shows.
 */
import { constants, crc32, inflateSync } from "node:zlib";

/** Corrupt or truncated PNG data; the message is the reason (`truncated`, `corrupt image data (...)`). */
export class PngDataError extends Error {}

/** A PNG's header and chunks, checked and ready to decode. */
export interface PngFile {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  idat: Buffer[];
  palette?: Buffer;
  transparency?: Buffer;
  /** The IEND chunk was reached. */
  complete: boolean;
}

/** Decoded pixels, HWC: 1 channel for grey PNGs, 3 otherwise; transparency is flattened onto white. */
export interface PngPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
/** Chunks that change how the pixels should look (colour, orientation, animation): sharp's job. */
const SHARP_CHUNKS = new Set(["iCCP", "sRGB", "gAMA", "cHRM", "cICP", "mDCv", "cLLi", "eXIf", "acTL", "fcTL", "fdAT"]);
/** Samples per pixel by colour type. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8], 2: [8], 3: [1, 2, 4, 8], 4: [8], 6: [8] };

export const isPng = (buf: Uint8Array): boolean => buf.length >= 8 && SIGNATURE.equals(buf.subarray(0, 8));

/** Width, height and colour type from a PNG's IHDR, before anything else is read. */
export function pngHeader(buf: Buffer): { width: number; height: number; colorType: number } | undefined {
  if (!isPng(buf) || buf.length < 26 || buf.toString("latin1", 12, 16) !== "IHDR") return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), colorType: buf[25]! };
}

/**
 * Walk the chunks of `buf` and check their CRCs. Undefined when `buf` is not a PNG or is one
 * this decoder leaves to sharp; throws PngDataError when it is truncated or corrupt.
 */
export function readPng(buf: Buffer): PngFile | undefined {
  if (!isPng(buf)) return undefined;
  const idat: Buffer[] = [];
  let head: Pick<PngFile, "width" | "height" | "bitDepth" | "colorType"> | undefined;
  let palette: Buffer | undefined;
  let transparency: Buffer | undefined;
  let complete = false;
  let pos = 8;
  for (;;) {
    if (pos + 12 > buf.length || pos + 12 + buf.readUInt32BE(pos) > buf.length) {
      // libpng stops reading once the image data is in, so a cut after the last IDAT is harmless
      if (idat.length > 0 && buf.toString("latin1", pos + 4, pos + 8) !== "IDAT") break;
      throw new PngDataError("truncated");
    }
    const len = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    const critical = (type.charCodeAt(0) & 0x20) === 0;
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== buf.readUInt32BE(pos + 8 + len)) {
      if (!critical) return undefined; // libpng drops such a chunk with a warning; leave it to sharp
      throw new PngDataError(`corrupt image data (CRC mismatch in ${type.replace(/[^\x20-\x7e]/g, "?")} chunk)`);
    }
    pos += 12 + len;
    if (type === "IHDR") {
      if (head || len !== 13) return undefined;
      head = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth: data[8]!, colorType: data[9]! };
      if (!DEPTHS[head.colorType]?.includes(head.bitDepth) || head.width === 0 || head.height === 0) return undefined;
      if (data[10] !== 0 || data[11] !== 0 || data[12] !== 0) return undefined; // interlaced or an unknown method
    } else if (!head || SHARP_CHUNKS.has(type)) {
      return undefined;
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "PLTE") {
      palette = data;
    } else if (type === "tRNS") {
      transparency = data;
    } else if (type === "IEND") {
      complete = true;
      break;
    } else if (critical) {
      return undefined;
    }
  }
  if (!head) return undefined;
  if (!checkPalette(head.colorType, palette, transparency)) return undefined;
  return { ...head, idat, palette, transparency, complete };
}

/** The PLTE and tRNS combinations libpng reads without complaint. */
function checkPalette(colorType: number, palette?: Buffer, trns?: Buffer): boolean {
  if (colorType === 3) {
    if (!palette || palette.length % 3 !== 0 || palette.length === 0 || palette.length > 768) return false;
    return !trns || trns.length <= palette.length / 3;
  }
  if (palette && (colorType === 0 || colorType === 4)) return false;
  if (!trns) return true;
  return (colorType === 0 && trns.length === 2) || (colorType === 2 && trns.length === 6);
}

/**
 * Inflate, unfilter and expand to 8-bit pixels flattened onto white. Undefined when the data is
 * odd in a way libpng tolerates (more image data than the header needs, palette indices past
 * the palette): sharp decodes those.
 */
export function decodePng(png: PngFile): PngPixels | undefined {
  const { width, height, bitDepth, colorType } = png;
  const bpp = SAMPLES[colorType]! * bitDepth; // bits per pixel
  const stride = Math.ceil((width * bpp) / 8);
  const expected = (stride + 1) * height;
  let raw: Buffer;
  try {
    const idat = png.idat.length === 1 ? png.idat[0]! : Buffer.concat(png.idat);
    raw = inflateSync(idat, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: expected, chunkSize: Math.max(64, expected) });
  } catch (err) {
    if (err instanceof RangeError) return undefined; // more data than rows: libpng ignores the rest
    const msg = err instanceof Error ? err.message : String(err);
    throw new PngDataError(png.complete ? `corrupt image data (${msg})` : "truncated");
  }
  if (raw.length < expected) throw new PngDataError(png.complete ? "corrupt image data (too little image data)" : "truncated");
  unfilter(raw, height, stride, Math.max(1, bpp >> 3));
  const channels = colorType === 0 || colorType === 4 ? 1 : 3;
  const out = new Uint8Array(width * height * channels);
  const ok = EXPAND[colorType]!(raw, png, stride, out);
  return ok ? { width, height, channels, data: out } : undefined;
}

/** Undo the per-row filters in place; row y's bytes start at y * (stride + 1) + 1. */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): void {
  for (let y = 0; y < height; y++) {
    const r = y * (stride + 1);
    const filter = raw[r]!;
    const p = r + 1; // this row
    const q = p - stride - 1; // the row above (only read when y > 0)
    if (filter === 0) continue;
    if (filter === 1) {
      for (let i = p + bpp; i < p + stride; i++) raw[i] = raw[i]! + raw[i - bpp]!;
    } else if (filter === 2) {
      if (y > 0) for (let i = 0; i < stride; i++) raw[p + i] = raw[p + i]! + raw[q + i]!;
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? raw[p + i - bpp]! : 0;
        const up = y > 0 ? raw[q + i]! : 0;
        raw[p + i] = raw[p + i]! + ((left + up) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? raw[p + i - bpp]! : 0;
        const b = y > 0 ? raw[q + i]! : 0;
        const c = i >= bpp && y > 0 ? raw[q + i - bpp]! : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        raw[p + i] = raw[p + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else {
      throw new PngDataError(`corrupt image data (bad filter type ${filter} in row ${y})`);
    }
  }
}

/**
 * `over[a << 8 | v]`: value v at alpha a over white, floor((v a + 255 (255 - a)) / 255), which
 * is what libvips' flatten computes.
 */
const OVER_WHITE = (() => {
  const t = new Uint8Array(256 * 256);
  for (let a = 0; a < 256; a++) for (let v = 0; v < 256; v++) t[(a << 8) | v] = Math.floor((v * a + 255 * (255 - a)) / 255);
  return t;
})();

type Expand = (raw: Buffer, png: PngFile, stride: number, out: Uint8Array) => boolean;

/** Samples of a row of `bitDepth`-bit values, as 0..(2^depth - 1). */
function unpackRow(raw: Buffer, at: number, width: number, bitDepth: number, into: Uint8Array): void {
  if (bitDepth === 8) {
    into.set(raw.subarray(at, at + width));
    return;
  }
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  for (let x = 0; x < width; x++) {
    const shift = 8 - bitDepth * ((x % perByte) + 1);
    into[x] = (raw[at + Math.floor(x / perByte)]! >> shift) & mask;
  }
}

const EXPAND: Record<number, Expand> = {
  // grey, with an optional tRNS grey value that is transparent (becomes white)
  0: (raw, { width, height, bitDepth, transparency }, stride, out) => {
    const scale = 255 / ((1 << bitDepth) - 1);
    const key = transparency ? transparency.readUInt16BE(0) : -1;
    const row = new Uint8Array(width);
    for (let y = 0; y < height; y++) {
      unpackRow(raw, y * (stride + 1) + 1, width, bitDepth, row);
      for (let x = 0; x < width; x++) out[y * width + x] = row[x] === key ? 255 : row[x]! * scale;
    }
    return true;
  },
  // RGB, with an optional tRNS colour that is transparent
  2: (raw, { width, height, transparency }, stride, out) => {
    const kr = transparency ? transparency.readUInt16BE(0) : -1;
    const kg = transparency ? transparency.readUInt16BE(2) : -1;
    const kb = transparency ? transparency.readUInt16BE(4) : -1;
    for (let y = 0; y < height; y++) {
      const s = y * (stride + 1) + 1;
      const o = y * width * 3;
      out.set(raw.subarray(s, s + width * 3), o);
      if (kr >= 0) {
        for (let i = o; i < o + width * 3; i += 3) if (out[i] === kr && out[i + 1] === kg && out[i + 2] === kb) out[i] = out[i + 1] = out[i + 2] = 255;
      }
    }
    return true;
  },
  // palette: each entry is flattened once, then looked up
  3: (raw, { width, height, bitDepth, palette, transparency }, stride, out) => {
    const entries = palette!.length / 3;
    const lut = new Uint8Array(256 * 3);
    for (let i = 0; i < entries; i++) {
      const a = transparency && i < transparency.length ? transparency[i]! : 255;
      for (let k = 0; k < 3; k++) lut[i * 3 + k] = OVER_WHITE[(a << 8) | palette![i * 3 + k]!]!;
    }
    const row = new Uint8Array(width);
    let top = 0;
    for (let y = 0; y < height; y++) {
      unpackRow(raw, y * (stride + 1) + 1, width, bitDepth, row);
      for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
        const i = row[x]!;
        if (i > top) top = i;
        out[o] = lut[i * 3]!;
        out[o + 1] = lut[i * 3 + 1]!;
        out[o + 2] = lut[i * 3 + 2]!;
      }
    }
    return top < entries;
  },
  // grey + alpha
  4: (raw, { width, height }, stride, out) => {
    for (let y = 0; y < height; y++) {
      const s = y * (stride + 1) + 1;
      for (let x = 0, o = y * width; x < width; x++) out[o + x] = OVER_WHITE[(raw[s + 2 * x + 1]! << 8) | raw[s + 2 * x]!]!;
    }
    return true;
  },
  // RGBA
  6: (raw, { width, height }, stride, out) => {
    for (let y = 0; y < height; y++) {
      let s = y * (stride + 1) + 1;
      for (let o = y * width * 3, end = o + width * 3; o < end; o += 3, s += 4) {
        const a = raw[s + 3]!;
        if (a === 255) {
          out[o] = raw[s]!;
          out[o + 1] = raw[s + 1]!;
          out[o + 2] = raw[s + 2]!;
        } else if (a === 0) {
          out[o] = out[o + 1] = out[o + 2] = 255;
        } else {
          const hi = a << 8;
          out[o] = OVER_WHITE[hi | raw[s]!]!;
          out[o + 1] = OVER_WHITE[hi | raw[s + 1]!]!;
          out[o + 2] = OVER_WHITE[hi | raw[s + 2]!]!;
        }
      }
    }
    return true;
  },
};
