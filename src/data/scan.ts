import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { TlrunError, didYouMean } from "../errors";

export type Split = "train" | "val" | "test";

/** One image file found by the scan; `rel` uses "/" and is relative to the data folder. */
export interface ScanItem {
  rel: string;
  abs: string;
  label: string;
  split?: Split;
  /** A labels table's other columns for this image (a lesion or patient id), as written. */
  columns?: Readonly<Record<string, string>>;
}

/**
 * The images of a dataset, whatever its layout: class subfolders, train/val/test folders of class
 * subfolders ("presplit"), or a labels file naming each image ("table", `data/scan-table.ts`).
 */
export interface ScanResult {
  layout: "classes" | "presplit" | "table";
  classes: string[];
  items: ScanItem[];
  skipped: Array<{ rel: string; reason: string }>;
}

/** Extensions sharp can decode. BMP is listed apart: it is common, but libvips cannot read it. */
export const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".avif"]);
export const SPLIT_DIRS: Readonly<Record<string, Split>> = { train: "train", val: "val", validation: "val", test: "test" };

interface Walk {
  root: string;
  rootReal: string;
  out: ScanResult;
  seen: Set<string>;
}

/**
 * List the images of a dataset folder. Two layouts: class subfolders (as Keras'
 * flow_from_directory reads them), or `train/`, `val/` (or `validation/`), `test/` folders that
 * each hold class subfolders. Subfolders of a class folder are read recursively; the class is
 * always the top-level folder. Nothing is decoded here.
 */
export function scanDataset(dir: string, opts: { excludeClasses: string[] }): ScanResult {
  let rootReal: string;
  try {
    rootReal = realpathSync(dir);
  } catch {
    throw new TlrunError(`data folder not found: ${dir}\n  hint: set data.dir to a folder of class subfolders, or create it with 'tlrun dataset emoji --out ${dir}'`);
  }
  if (!statSync(rootReal).isDirectory()) throw new TlrunError(`data.dir is not a folder: ${dir}`);
  const out: ScanResult = { layout: "classes", classes: [], items: [], skipped: [] };
  const w: Walk = { root: dir, rootReal, out, seen: new Set([rootReal]) };
  const top = listDirs(w, dir, "");
  const splitNames = top.filter((d) => d in SPLIT_DIRS);
  if (splitNames.includes("train") && splitNames.length === top.length) {
    if (top.includes("val") && top.includes("validation")) {
      throw new TlrunError(`${dir} has both val/ and validation/; keep one of them`);
    }
    out.layout = "presplit";
    for (const s of splitNames) {
      const classes = listDirs(w, join(dir, s), `${s}/`);
      scanClasses(w, join(dir, s), `${s}/`, classes, opts.excludeClasses, SPLIT_DIRS[s]);
    }
  } else if (splitNames.includes("train")) {
    throw new TlrunError(
      `${dir} mixes split folders (${splitNames.join(", ")}) with other folders (${top.filter((d) => !(d in SPLIT_DIRS)).join(", ")})\n` +
        "  hint: use either class subfolders only, or only train/, val/ and test/ folders that each hold class subfolders",
    );
  } else {
    scanClasses(w, dir, "", top, opts.excludeClasses, undefined);
  }
  const found = new Set(out.items.map((i) => i.label));
  for (const ex of opts.excludeClasses) {
    if (!out.skipped.some((s) => s.reason === EXCLUDED && className(s.rel) === ex)) {
      throw new TlrunError(`data.exclude_classes names '${ex}', which is not a class folder in ${dir}. ${didYouMean(ex, found)}`.trim());
    }
  }
  out.classes = [...found].sort();
  if (out.classes.length === 0) {
    throw new TlrunError(`no images found in class subfolders of ${dir}\n  hint: put images in <dir>/<class>/*.png (or train/, val/, test/ folders of class subfolders)`);
  }
  out.items.sort((a, b) => cmp(a.rel, b.rel));
  out.skipped.sort((a, b) => cmp(a.rel, b.rel));
  return out;
}

/**
 * Class folder names of a data folder (of its train/ folder when split into train/, val/ and
 * test/), before `exclude_classes`: what the config's class names are checked against. Reads
 * only folder names.
 */
export function classFolders(dir: string): string[] {
  const root = existsSync(join(dir, "train")) ? join(dir, "train") : dir;
  return readdirSync(root).filter((n) => !n.startsWith(".") && statSync(join(root, n)).isDirectory()).sort();
}

/**
 * Whether the scan fixed each image's split (split folders, or a labels table's split column);
 * otherwise prepare draws the seeded split.
 */
export function splitsGiven(scan: Pick<ScanResult, "layout" | "items">): boolean {
  return scan.layout === "presplit" || (scan.layout === "table" && scan.items.some((i) => i.split !== undefined));
}

export const EXCLUDED = "excluded by data.exclude_classes";
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const className = (rel: string): string => rel.replace(/\/$/, "").split("/").pop()!;

function scanClasses(w: Walk, dir: string, prefix: string, classes: string[], exclude: string[], split: Split | undefined): void {
  for (const cls of classes) {
    const rel = `${prefix}${cls}/`;
    if (exclude.includes(cls)) {
      w.out.skipped.push({ rel, reason: EXCLUDED });
      continue;
    }
    const before = w.out.items.length;
    walkFiles(w, join(dir, cls), rel, cls, split);
    if (w.out.items.length === before) w.out.skipped.push({ rel, reason: "class folder has no images" });
  }
}

/** Visible subfolders of `dir` (links followed when they stay inside the data folder); loose files are noted. */
function listDirs(w: Walk, dir: string, prefix: string): string[] {
  const dirs: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const kind = classify(w, join(dir, name), `${prefix}${name}`);
    if (kind === "dir") dirs.push(name);
    else if (kind === "file") w.out.skipped.push({ rel: `${prefix}${name}`, reason: "not inside a class folder" });
  }
  return dirs;
}

function walkFiles(w: Walk, dir: string, prefix: string, label: string, split: Split | undefined): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const abs = join(dir, name);
    const rel = `${prefix}${name}`;
    const ext = extname(name).toLowerCase();
    const kind = classify(w, abs, rel);
    if (kind === "dir") {
      if (IMAGE_EXTENSIONS.has(ext)) w.out.skipped.push({ rel: `${rel}/`, reason: "a folder named like an image, not an image" });
      else walkFiles(w, abs, `${rel}/`, label, split);
    } else if (kind === "file") {
      if (IMAGE_EXTENSIONS.has(ext)) w.out.items.push({ rel, abs, label, ...(split ? { split } : {}) });
      else if (ext === ".bmp") w.out.skipped.push({ rel, reason: "BMP is not supported by the decoder; convert it to PNG" });
      else w.out.skipped.push({ rel, reason: ext ? `not an image extension (${ext})` : "no file extension" });
    }
  }
}

/** File, folder or neither; links must resolve inside the data folder, and each folder is read once. */
function classify(w: Walk, abs: string, rel: string): "file" | "dir" | "none" {
  const l = lstatSync(abs);
  if (!l.isSymbolicLink()) return l.isDirectory() ? enter(w, abs, rel) : l.isFile() ? "file" : "none";
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    w.out.skipped.push({ rel, reason: "broken link" });
    return "none";
  }
  const inside = relative(w.rootReal, real);
  if (inside.startsWith(`..${sep}`) || inside === ".." || inside.startsWith(sep) || /^[a-zA-Z]:/.test(inside)) {
    w.out.skipped.push({ rel, reason: "link leads outside the data folder" });
    return "none";
  }
  const s = statSync(real);
  return s.isDirectory() ? enter(w, real, rel) : s.isFile() ? "file" : "none";
}

function enter(w: Walk, abs: string, rel: string): "dir" | "none" {
  const real = realpathSync(abs);
  if (w.seen.has(real)) {
    w.out.skipped.push({ rel: `${rel}/`, reason: "folder already read through another path (link loop)" });
    return "none";
  }
  w.seen.add(real);
  return "dir";
}
