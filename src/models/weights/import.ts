import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { TlrunError, UsageError, didYouMean } from "../../errors";
import { fileDigests } from "../../util/hash";
import { readWeightsFile } from "../keras-archive";
import { ARCHITECTURES, cacheRoot, type Architecture } from "../zoo";
import { expectedWeights, mapWeights } from "./map";
import { megabytes } from "./offline";
import { weightsFile } from "./sources";
import { hashKind, isVerified, markVerified } from "./verify";

export interface ImportOptions {
  /** The architecture the file is for; otherwise found from the file's hash (or, unpinned, its name). */
  model?: string;
  /** The architectures and their pinned hashes; the zoo unless a test gives its own. */
  architectures?: Record<string, Architecture>;
}

export interface ImportResult {
  arch: Architecture;
  /** Where it now is: the path the downloader would have written. */
  path: string;
  sha256: string;
  /** How the file was checked: Keras' published hash, or (no hash published) its layers against the architecture. */
  checked: "md5" | "sha256" | "layers";
  /** The same file was already in the cache; nothing was copied. */
  already: boolean;
}

/** What `arch`'s pinned file is: "vgg16_…_notop.h5 (58.9 MB, md5 6d6b…)". */
function expectedLine(arch: Architecture): string {
  const { file, hash, bytes } = arch.imagenet;
  const facts = [bytes ? megabytes(bytes) : "", hash ? `${hashKind(hash)} ${hash}` : "no published hash"].filter(Boolean);
  return `${file} (${facts.join(", ")})`;
}

function pickArchitecture(file: string, sums: { md5: string; sha256: string }, opts: ImportOptions): Architecture {
  const zoo = opts.architectures ?? ARCHITECTURES;
  if (opts.model) {
    const arch = zoo[opts.model];
    if (!arch) throw new UsageError(`--model '${opts.model}' is not an architecture tlrun knows. ${didYouMean(opts.model, Object.keys(zoo)) || `Known: ${Object.keys(zoo).join(", ")}`}`.trim());
    return arch;
  }
  const pinned = Object.values(zoo).find((a) => a.imagenet.hash && [sums.md5, sums.sha256].includes(a.imagenet.hash.toLowerCase()));
  const named = Object.values(zoo).find((a) => !a.imagenet.hash && a.imagenet.file === basename(file));
  const arch = pinned ?? named;
  if (!arch)
    throw new TlrunError(
      `${file} (md5 ${sums.md5}, sha256 ${sums.sha256}) is none of the ImageNet weights files tlrun knows by hash or name; ` +
        `if it is, give --model NAME (see tlrun models), or use it directly with base.weights: ${file}`,
      1,
    );
  return arch;
}

/**
 * Check a weights file brought by hand (an offline machine) against the architecture's pinned
 * hash, or when Keras publishes none, that its layers map onto the architecture, and copy it
 * atomically to the exact path the downloader uses, stamped as checked. A wrong file is refused
 * with what was expected, and nothing is copied.
 */
export async function importWeights(file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`no such file: ${file}`);
  // hash the copy, not the original: what is checked is what lands in the cache
  const folder = join(cacheRoot(), "weights");
  mkdirSync(folder, { recursive: true });
  const tmp = join(folder, `.import-${process.pid}-${basename(file)}`);
  try {
    copyFileSync(file, tmp);
    const sums = await fileDigests(tmp, ["md5", "sha256"]);
    const arch = pickArchitecture(file, sums, opts);
    const checked = await check(file, tmp, arch, sums, opts);
    const dest = weightsFile(arch, "imagenet", dirname(file)).path;
    const stampHash = arch.imagenet.hash?.toLowerCase() ?? sums.sha256;
    const already = existsSync(dest) && (await isVerified(dest, stampHash));
    if (!already) {
      renameSync(tmp, dest);
      await markVerified(dest, stampHash);
    }
    return { arch, path: dest, sha256: sums.sha256, checked, already };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The pinned hash must match; with none published, the file's layers must map onto the architecture. */
async function check(file: string, copy: string, arch: Architecture, sums: { md5: string; sha256: string }, opts: ImportOptions): Promise<ImportResult["checked"]> {
  const pin = arch.imagenet.hash?.toLowerCase();
  if (!pin) {
    try {
      const mapped = mapWeights(await readWeightsFile(copy), await expectedWeights(arch.topology()), arch.name);
      if (mapped.weightSpecs.length) return "layers";
      throw new TlrunError(`holds no weights for ${arch.name}`, 1);
    } catch (err) {
      if (!(err instanceof TlrunError)) throw err;
      // the reader names the temporary copy: name the user's file
      throw new TlrunError(`${file} is not ${arch.name}'s ImageNet weights (${expectedLine(arch)}): ${err.message.replace(`${copy}: `, "")}; nothing was copied`, 1);
    }
  }
  const kind = hashKind(pin);
  const got = kind === "md5" ? sums.md5 : sums.sha256;
  if (got === pin) return kind;
  const other = Object.values(opts.architectures ?? ARCHITECTURES).find((a) => a.imagenet.hash && [sums.md5, sums.sha256].includes(a.imagenet.hash.toLowerCase()));
  throw new TlrunError(
    `${file} is not ${arch.name}'s ImageNet weights: expected ${expectedLine(arch)}, this file has ${kind} ${got} (${megabytes(statSync(copy).size)}); nothing was copied` +
      (other ? `. It is ${other.name}'s file: write --model ${other.name}` : ""),
    1,
  );
}
