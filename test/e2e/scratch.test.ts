/**
 * Fine-tune's scratch files (frozen activations), through the real CLI: they go under
 * runtime.scratch_dir and nowhere in $TMPDIR (nor ONNX Runtime's mat-debug log), exist while the
 * stage runs, and are gone after it succeeds, fails, or is stopped with Ctrl-C; a run killed with
 * -9 leaves them, and the next run removes them, but not a live process's or another host's.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { HOST_TAG } from "../../src/util/atomic";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

function setup(t: TestContext) {
  const root = tempDir(t, "tlrun-scratch-");
  const data = tinyEmojiDataset(join(root, "data"), 8);
  const scratch = join(root, "scratch");
  const file = join(root, "p.yaml");
  // fixed augmented views: the training images' activations are stored too, not only validation's
  const yaml = tinyPipeline(data, join(root, "runs")).replace("feature_copies: 1", "feature_copies: 1\n  fine_tune_views: 1");
  writeFileSync(file, `${yaml}  scratch_dir: ${JSON.stringify(scratch)}\n`);
  const tmp = join(root, "tmp");
  mkdirSync(tmp);
  return { root, data, scratch, file, tmp };
}

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stderr: string; seen: Set<string>; pid: number; peakBytes: number }

/** Bytes of the files under `dir` now (0 when it is gone). */
function bytesUnder(dir: string): number {
  try {
    return readdirSync(dir, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? bytesUnder(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
  } catch {
    return 0; // removed meanwhile
  }
}

/**
 * `tlrun run` with its own TMPDIR, watching the scratch folder: the folder names seen in it while
 * the run went on. `stop` (a signal) is sent once a views folder has appeared.
 */
async function run(file: string, scratch: string, tmp: string, args: string[] = [], stop?: NodeJS.Signals): Promise<Outcome> {
  const child = spawn(process.execPath, [BIN, "run", file, ...args], { env: { ...process.env, CI: "true", TMPDIR: tmp }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const seen = new Set<string>();
  let ended = false;
  let peakBytes = 0;
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on("close", (code, signal) => ((ended = true), r([code, signal]))));
  while (!ended) {
    const now = existsSync(scratch) ? readdirSync(scratch).filter((n) => n.startsWith("views.tmp-")) : [];
    now.forEach((n) => seen.add(n));
    peakBytes = Math.max(peakBytes, bytesUnder(scratch));
    if (stop && now.length === 2 && child.exitCode === null) {
      child.kill(stop);
      stop = undefined;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const [code, signal] = await exit;
  return { code, signal, stderr, seen, pid: child.pid!, peakBytes };
}

/** Every file under `dir`, recursively (its whole contents, dot files too). */
const everything = (dir: string): string[] => readdirSync(dir, { recursive: true }) as string[];

test("fine-tune's scratch goes under runtime.scratch_dir, nothing lands in TMPDIR, and it is removed after success, failure and Ctrl-C", async (t) => {
  const { root, data, scratch, file, tmp } = setup(t);
  const planned = spawnSync(process.execPath, [BIN, "plan", file, "--json"], { cwd: root, encoding: "utf8" });
  assert.equal(planned.status, 0, planned.stderr);
  const estimate = (JSON.parse(planned.stdout) as { scratch: { dir: string; bytes: number } }).scratch;
  assert.equal(estimate.dir, scratch);
  const ok = await run(file, scratch, tmp);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.peakBytes, estimate.bytes, "tlrun plan's estimate is what fine-tune wrote (no image was dropped)");
  assert.equal(ok.seen.size, 2, `the validation and training views had their own folders under ${scratch}: saw ${[...ok.seen].join(", ")}`);
  for (const n of ok.seen) assert.match(n, new RegExp(`^views\\.tmp-${HOST_TAG.replace(/\./g, "\\.")}-${ok.pid}-\\d+-\\d+$`), "named by host and pid");
  assert.deepEqual(readdirSync(scratch), [], "removed after success");
  assert.deepEqual(everything(tmp), [], "nothing in TMPDIR, no mat-debug log either");

  const stopped = await run(file, scratch, tmp, ["--set", "train.fine_tune.learning_rate=0.0002"], "SIGINT");
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /fine-tune: interrupted/);
  assert.equal(stopped.seen.size, 2);
  assert.deepEqual(readdirSync(scratch), [], "removed after Ctrl-C");

  // Same sizes and times, other bytes: the data folder's fingerprint holds, so prepare stays
  // cached and fine-tune fails when it decodes the images for its activations.
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
  for (const f of files(data)) {
    const st = statSync(f);
    writeFileSync(f, Buffer.alloc(st.size, 7));
    utimesSync(f, st.atime, st.mtime);
  }
  const failed = await run(file, scratch, tmp, ["--set", "train.fine_tune.learning_rate=0.0003"]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /fine-tune.*cannot decode/);
  assert.ok(failed.seen.size >= 1, "the failure came after the scratch folders were made");
  assert.deepEqual(readdirSync(scratch), [], "removed after a failure");
  assert.deepEqual(everything(tmp), []);
});

test("a run killed with -9 in fine-tune leaves its scratch; the next run removes it, but not a live process's or another host's", async (t) => {
  const { scratch, file, tmp } = setup(t);
  const killed = await run(file, scratch, tmp, [], "SIGKILL");
  assert.equal(killed.signal, "SIGKILL", killed.stderr);
  const left = readdirSync(scratch);
  assert.equal(left.length, 2, `kill -9 runs no cleanup: ${left.join(", ")}`);
  const live = `views.tmp-${HOST_TAG}-${process.pid}-1-0`; // this test's own process: alive
  const foreign = `views.tmp-elsewhere.example-${killed.pid}-1-0`; // a dead pid, but of another machine
  const unrelated = "notes.txt";
  for (const n of [live, foreign]) mkdirSync(join(scratch, n));
  writeFileSync(join(scratch, unrelated), "kept");
  const again = await run(file, scratch, tmp);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readdirSync(scratch).sort(), [foreign, unrelated, live].sort(), "the dead run's folders went; the rest stayed");
  assert.equal(readFileSync(join(scratch, unrelated), "utf8"), "kept");
  assert.deepEqual(everything(tmp), []);
});
