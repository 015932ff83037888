/**
 * Exported ONNX graphs kept between runs, so a frozen base that was recorded, exported and checked
 * once is not recorded and exported again: its inference workers start at once on the stored
 * bytes. An entry is still checked against the eager model on every use (compiled.ts), so the
 * cache saves the recording and the export, never the check.
 *
 * Entries live in <tlrun cache>/graphs as `<key>.onnx` and `<key>.json` (the bytes' sha256 and op
 * count), written atomically, the record last. A record whose bytes are missing or do not hash
 * to it is a miss and is removed. TLRUN_GRAPH_CACHE=0 turns the cache off.
 */
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/atomic";
import { hashRecord, sha256 } from "../../util/hash";
import { cacheRoot } from "../zoo";

/** A stored graph. */
export interface CachedGraph {
  bytes: Uint8Array;
  /** Ops in the recording it was exported from, for the runner label. */
  ops: number;
}

/** Entries kept; past this the least recently used are removed when a new one is written. */
const KEEP = 24;

const dir = (): string => join(cacheRoot(), "graphs");
const enabled = (): boolean => process.env.TLRUN_GRAPH_CACHE !== "0";

let codeHash: string | undefined;
/**
 * A hash of the code that records and exports graphs (every compiled file of src/models), so an
 * upgrade or a local edit never reuses a graph an older exporter wrote.
 */
function exporterHash(): string {
  if (codeHash !== undefined) return codeHash;
  const root = join(__dirname, "..");
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts")).sort();
  return (codeHash = hashRecord(files.map((f) => [f, sha256(readFileSync(join(root, f)))])));
}

/** The key of a graph from `parts` (everything its recording depends on besides tlrun's code). */
export function graphKey(parts: Record<string, unknown>): string {
  return hashRecord({ format: 1, exporter: exporterHash(), ...parts });
}

/** The graph stored under `key`, if any and intact. */
export function readGraph(key: string): CachedGraph | undefined {
  if (!enabled()) return undefined;
  const base = join(dir(), key);
  let record: { sha256: string; ops: number };
  try {
    record = JSON.parse(readFileSync(`${base}.json`, "utf8")) as { sha256: string; ops: number };
  } catch {
    return undefined;
  }
  try {
    const bytes = readFileSync(`${base}.onnx`);
    if (sha256(bytes) !== record.sha256 || !Number.isInteger(record.ops)) throw new Error("damaged");
    const now = new Date();
    utimesSync(`${base}.json`, now, now); // last used, for prune()
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), ops: record.ops };
  } catch {
    dropGraph(key);
    return undefined;
  }
}

/** Store `bytes` under `key` (best effort: a cache that cannot be written is only slower). */
export function writeGraph(key: string, bytes: Uint8Array, ops: number): void {
  if (!enabled()) return;
  const base = join(dir(), key);
  try {
    writeFileAtomic(`${base}.onnx`, bytes);
    writeFileAtomic(`${base}.json`, JSON.stringify({ sha256: sha256(bytes), ops }));
    prune();
  } catch {
    // read-only or full cache folder: the next run records and exports again
  }
}

/** Remove the entry under `key` (one that failed its check, or is damaged). */
export function dropGraph(key: string): void {
  const base = join(dir(), key);
  rmSync(`${base}.json`, { force: true });
  rmSync(`${base}.onnx`, { force: true });
}

function prune(): void {
  const entries = readdirSync(dir()).filter((f) => f.endsWith(".json")).map((f) => ({ key: f.slice(0, -5), at: statSync(join(dir(), f)).mtimeMs }));
  for (const e of entries.sort((a, b) => b.at - a.at).slice(KEEP)) dropGraph(e.key);
}
