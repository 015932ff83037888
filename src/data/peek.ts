import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { IMAGE_EXTENSIONS } from "./scan";

/** What a data folder holds as far as `validate` needs to know: the class folders and which of them hold an image. */
export interface FolderPeek {
  /** Class folder names (of every split folder, for the train/, val/, test/ layout), sorted. */
  folders: string[];
  /** The folders among them with at least one image (in any split folder). */
  withImages: string[];
  /** Images lying directly in the data folder, outside any class folder: a common mistake worth naming. */
  looseImages: boolean;
  /** Split folders (train/, ...) beside other folders: neither layout, which prepare refuses. */
  mixed?: { splits: string[]; others: string[] };
}

const SPLITS = new Set(["train", "val", "validation", "test"]);
/** Nested folders followed while looking for one image; deeper trees are taken to hold images. */
const MAX_DEPTH = 8;

/**
 * Class folders of a data folder and whether each holds an image, from folder listings alone:
 * nothing is decoded and each class stops at its first image, so this stays cheap on a folder of
 * 100k images. The full scan (`scanDataset`) runs in prepare; this lets `validate` refuse an
 * empty folder or a single class before anything runs.
 */
export function peekClasses(dir: string): FolderPeek {
  const top = visible(dir);
  const topDirs = top.filter((n) => isDir(join(dir, n)));
  const presplit = topDirs.includes("train") && topDirs.every((n) => SPLITS.has(n));
  const roots = presplit ? topDirs.map((s) => join(dir, s)) : [dir];
  const folders = new Set<string>();
  const withImages = new Set<string>();
  for (const root of roots)
    for (const name of visible(root).filter((n) => isDir(join(root, n)))) {
      folders.add(name);
      if (!withImages.has(name) && holdsImage(join(root, name), 0)) withImages.add(name);
    }
  const looseImages = top.some((n) => isImage(n) && !isDir(join(dir, n)));
  const mixed = topDirs.includes("train") && !presplit ? { splits: topDirs.filter((n) => SPLITS.has(n)), others: topDirs.filter((n) => !SPLITS.has(n)) } : undefined;
  return { folders: [...folders].sort(), withImages: [...withImages].sort(), looseImages, ...(mixed ? { mixed } : {}) };
}

function holdsImage(dir: string, depth: number): boolean {
  const names = visible(dir);
  if (names.some((n) => isImage(n) && !isDir(join(dir, n)))) return true;
  if (depth >= MAX_DEPTH) return names.length > 0;
  return names.some((n) => isDir(join(dir, n)) && holdsImage(join(dir, n), depth + 1));
}

const isImage = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

function visible(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith(".")).sort();
  } catch {
    return []; // unreadable: prepare's scan says why
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a broken link
  }
}
