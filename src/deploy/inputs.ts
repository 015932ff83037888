/**
 * What `tlrun predict` scores: files, folders (walked recursively) and quoted globs, expanded
 * lazily so 100k paths are never held at once. Node 20 has no fs.glob, and no glob package is
 * a dependency, so a small matcher handles `*`, `?`, `[...]` and `**`.
 */
import { existsSync, opendirSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { UsageError } from "../errors";
import { IMAGE_EXTENSIONS } from "../data/scan";

const isImage = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
const hasGlob = (s: string): boolean => /[*?[]/.test(s);

/** Image files under `dir`, depth first in name order, hidden entries skipped; one folder listing held at a time. */
function* walk(dir: string): Generator<string> {
  const d = opendirSync(dir);
  const names: Array<{ name: string; dir: boolean }> = [];
  try {
    for (let e = d.readSync(); e; e = d.readSync()) {
      if (e.name.startsWith(".")) continue;
      const full = join(dir, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(full, { throwIfNoEntry: false })?.isDirectory() === true);
      if (isDir || isImage(e.name)) names.push({ name: e.name, dir: isDir });
    }
  } finally {
    d.closeSync();
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const n of names) {
    const full = join(dir, n.name);
    if (n.dir) yield* walk(full);
    else yield full;
  }
}

/** A glob as a regular expression over a whole path ("/"-separated); `**` spans folders. */
export function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Images a glob matches: the folders before its first wildcard are walked, each image tested. */
function* globMatches(pattern: string): Generator<string> {
  const abs = resolve(pattern).split(sep).join("/");
  const parts = abs.split("/");
  const first = parts.findIndex(hasGlob);
  const root = parts.slice(0, first).join("/") || "/";
  if (!existsSync(root) || !statSync(root).isDirectory()) return;
  const re = globRegExp(abs);
  for (const f of walk(root)) if (re.test(f.split(sep).join("/"))) yield f;
}

/** One argument's images: a file as it is (whatever its extension), a folder's images, a glob's matches. */
function* expandOne(arg: string): Generator<string> {
  const st = statSync(arg, { throwIfNoEntry: false });
  if (st?.isFile()) yield resolve(arg);
  else if (st?.isDirectory()) yield* walk(resolve(arg));
  else if (hasGlob(arg)) yield* globMatches(arg);
  else throw new UsageError(`no such file or folder: ${arg}`);
}

/**
 * Check each argument names at least one image (stopping at the first), so a bad argument is a
 * usage error before the model loads; cheap even on a large folder.
 */
export function checkInputs(args: readonly string[]): void {
  if (args.length === 0) throw new UsageError("no images given: name image files, folders or globs after the run");
  for (const arg of args) {
    if (expandOne(arg).next().done) {
      const what = hasGlob(arg) && !existsSync(arg) ? "matches no image" : "holds no image";
      throw new UsageError(`${arg} ${what} (${[...IMAGE_EXTENSIONS].join(" ")}; searched recursively)`);
    }
  }
}

/** Every image the arguments name, in argument order, lazily. */
export function* expandInputs(args: readonly string[]): Generator<string> {
  for (const arg of args) yield* expandOne(arg);
}
