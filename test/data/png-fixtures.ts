/** A small PNG encoder for tests: every colour type and bit depth, every row filter, extra chunks. */
import { crc32, deflateSync } from "node:zlib";

export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples row by row (1, 3, 1, 2 or 4 per pixel by colour type), each below 2^bitDepth. */
  samples: ArrayLike<number>;
  /** RGB triplets, for colour type 3. */
  palette?: number[];
  trns?: Buffer;
  /** Chunks written after IHDR (and PLTE, tRNS), before the image data. */
  extra?: Array<[string, Buffer]>;
  /** Split the compressed data into this many IDAT chunks (default 1). */
  idats?: number;
}

const SAMPLES = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

export function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode `spec`; row y uses filter y % 5, so the decoder meets all five. */
export function encodePng(spec: PngSpec): Buffer {
  const { width, height, colorType, bitDepth } = spec;
  const spp = SAMPLES[colorType];
  const stride = Math.ceil((width * spp * bitDepth) / 8);
  const bpp = Math.max(1, (spp * bitDepth) >> 3);
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * spp; i++) {
      const v = spec.samples[y * width * spp + i]!;
      if (bitDepth === 16) rows.writeUInt16BE(v, y * stride + 2 * i);
      else if (bitDepth === 8) rows[y * stride + i] = v;
      else rows[y * stride + ((i * bitDepth) >> 3)]! |= v << (8 - bitDepth - ((i * bitDepth) & 7));
    }
  }
  const filtered = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = y % 5;
    filtered[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = rows[y * stride + i]!;
      const a = i >= bpp ? rows[y * stride + i - bpp]! : 0;
      const b = y > 0 ? rows[(y - 1) * stride + i]! : 0;
      const c = i >= bpp && y > 0 ? rows[(y - 1) * stride + i - bpp]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f]!;
      filtered[y * (stride + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const z = deflateSync(filtered);
  const parts = spec.idats ?? 1;
  const step = Math.ceil(z.length / parts);
  const idat = Array.from({ length: parts }, (_, k) => chunk("IDAT", z.subarray(k * step, (k + 1) * step)));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    ...(spec.palette ? [chunk("PLTE", Buffer.from(spec.palette))] : []),
    ...(spec.trns ? [chunk("tRNS", spec.trns)] : []),
    ...(spec.extra ?? []).map(([t, d]) => chunk(t, d)),
    ...idat,
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** `n` samples below 2^bits from a seeded generator, with runs of the extremes mixed in. */
export function randomSamples(n: number, bits: number, seed: number): number[] {
  let s = seed >>> 0;
  const max = 2 ** bits - 1;
  return Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    return i % 7 === 0 ? (r < 0.5 ? 0 : max) : Math.floor(r * (max + 1));
  });
}

/** The offsets of the chunks of a PNG, by type (first of each). */
export function chunkAt(png: Buffer, type: string): { pos: number; len: number } {
  for (let pos = 8; pos + 8 <= png.length; pos += 12 + png.readUInt32BE(pos)) {
    if (png.toString("latin1", pos + 4, pos + 8) === type) return { pos, len: png.readUInt32BE(pos) };
  }
  throw new Error(`no ${type} chunk`);
}
