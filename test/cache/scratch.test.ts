/**
 * Scratch folders (src/cache/scratch.ts) and fine-tune's activation views in them
 * (src/stages/activation-views.ts): named by host and pid, swept only when their owner on this
 * machine is gone, and removed by the process itself on dispose or at process.exit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { listScratch, makeScratch, sweepScratch } from "../../src/cache/scratch";
import { ActivationViews } from "../../src/stages/activation-views";
import { HOST_TAG } from "../../src/util/atomic";
import { TlrunError } from "../../src/errors";
import { tempDir, tinyPipeline } from "../helpers";

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

test("a scratch folder names its host and pid; the sweep removes only this machine's whose process is gone", (t) => {
  const root = join(tempDir(t), "scratch");
  const mine = makeScratch(root, "views");
  assert.match(basename(mine), new RegExp(`^views\\.tmp-${HOST_TAG.replace(/\./g, "\\.")}-${process.pid}-\\d+-\\d+$`));
  const dead = deadPid();
  const gone = join(root, `views.tmp-${HOST_TAG}-${dead}-1-0`);
  const foreign = join(root, `views.tmp-other.host-${dead}-1-0`);
  const untagged = join(root, `views.tmp-${dead}-1-0`); // no host: cannot tell whose
  for (const d of [gone, foreign, untagged]) mkdirSync(d);
  writeFileSync(join(gone, "view-0-0.f32"), Buffer.alloc(1000));
  writeFileSync(join(root, "README"), "not a scratch folder");
  const listed = listScratch(root);
  assert.deepEqual(listed.map((l) => basename(l.path)).sort(), [gone, foreign, untagged, mine].map((p) => basename(p)).sort());
  assert.equal(listed.find((l) => l.path === gone)!.bytes, 1000);
  assert.ok(listed.every((l) => l.kind === "scratch"));
  const swept = sweepScratch(root);
  assert.deepEqual(swept, { removed: [gone], bytes: 1000 });
  assert.deepEqual(readdirSync(root).sort(), ["README", basename(foreign), basename(untagged), basename(mine)].sort());
  assert.deepEqual(sweepScratch(root, () => false).removed, [mine], "with its owner gone, this process's own goes too");
  assert.deepEqual(sweepScratch(join(root, "absent")), { removed: [], bytes: 0 });
});

test("activation views are written and read back in their scratch folder, which dispose removes", (t) => {
  const root = join(tempDir(t), "scratch");
  const views = new ActivationViews([[2], [1, 3]], root);
  assert.ok(views.dir.startsWith(root) && existsSync(views.dir));
  views.append(0, [Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 2, 3, 4, 5, 6)]);
  views.append(0, [Float32Array.of(5, 6), Float32Array.of(7, 8, 9)]);
  views.seal(0);
  const [a, b] = views.batch(0, [2, 0]);
  assert.deepEqual([...a!.dataSync()], [5, 6, 1, 2]);
  assert.deepEqual(b!.shape, [2, 1, 3]);
  assert.deepEqual([...b!.dataSync()], [7, 8, 9, 1, 2, 3]);
  a!.dispose();
  b!.dispose();
  views.dispose();
  assert.deepEqual(readdirSync(root), []);
});

test("a process that exits with views not disposed (a second Ctrl-C) still removes their folders", (t) => {
  const root = join(tempDir(t), "scratch");
  const module = join(__dirname, "../../src/stages/activation-views.js");
  const script = `
    const { ActivationViews } = require(${JSON.stringify(module)});
    const a = new ActivationViews([[4]], ${JSON.stringify(root)});
    const b = new ActivationViews([[4]], ${JSON.stringify(root)});
    a.append(0, [new Float32Array(4)]);
    a.dispose(); // one disposed, one not: the hook must still be there for b
    b.append(0, [new Float32Array(4)]);
    if (require("node:fs").readdirSync(${JSON.stringify(root)}).length !== 1) process.exit(3);
    process.exit(130);
  `;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(r.status, 130, r.stderr);
  assert.deepEqual(readdirSync(root), []);
});

test("tlrun cache ls counts the scratch folders and gc removes those of processes gone, not a live one's or another host's", (t) => {
  const runs = join(tempDir(t), "runs");
  mkdirSync(join(runs, ".cache"), { recursive: true });
  const scratch = join(runs, ".scratch");
  const dead = deadPid();
  const names = { gone: `views.tmp-${HOST_TAG}-${dead}-1-0`, live: `views.tmp-${HOST_TAG}-${process.pid}-1-0`, foreign: `views.tmp-other.host-${dead}-1-0` };
  for (const n of Object.values(names)) mkdirSync(join(scratch, n), { recursive: true });
  writeFileSync(join(scratch, names.gone, "view-0-0.f32"), Buffer.alloc(2048));
  const bin = join(__dirname, "../../../bin/tlrun.js");
  const tlrun = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, "cache", ...args, "--runs-dir", runs], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const ls = JSON.parse(tlrun("ls", "--json"));
  assert.equal(ls.scratch_dir, scratch);
  assert.deepEqual([ls.totals.scratch, ls.totals.scratch_bytes, ls.totals.scratch_abandoned], [3, 2048, 1]);
  assert.match(tlrun("ls"), /^3 folders of fine-tune scratch in .*\.scratch\/ \(2\.0 kB\); 1 of processes gone \(2\.0 kB\), which tlrun cache gc or the next run removes$/m);
  assert.match(tlrun("gc", "--dry-run"), new RegExp(`would remove .*${names.gone.replace(/\./g, "\\.")}  2\\.0 kB  \\(fine-tune scratch of a process gone\\)`));
  assert.equal(readdirSync(scratch).length, 3, "--dry-run removes nothing");
  const gc = JSON.parse(tlrun("gc", "--json"));
  assert.deepEqual(gc.leftovers, [{ kind: "scratch", path: join(scratch, names.gone), bytes: 2048 }]);
  assert.deepEqual(readdirSync(scratch).sort(), [names.foreign, names.live].sort());
});

test("a scratch folder that cannot be made is a clear error: tlrun run refuses a runtime.scratch_dir under a file, located, before any stage", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "afile"), "");
  assert.throws(() => makeScratch(join(dir, "afile", "sub"), "views"), (e: Error) => e instanceof TlrunError && /cannot make a scratch folder in .*afile\/sub: ENOTDIR; set runtime\.scratch_dir/.test(e.message));
  assert.deepEqual(listScratch(join(dir, "afile")), [], "listing a file finds nothing, and does not throw");
  const data = join(dir, "data");
  for (const c of ["a", "b"]) mkdirSync(join(data, c), { recursive: true });
  const file = join(dir, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(dir, "runs"), `  scratch_dir: afile/sub\n`));
  const r = spawnSync(process.execPath, [join(__dirname, "../../../bin/tlrun.js"), "run", file], { cwd: dir, encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /p\.yaml:\d+:\d+: error: runtime\.scratch_dir 'afile\/sub' cannot be a folder: .*afile is a file\n {2}hint: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.ok(!existsSync(join(dir, "runs")), "nothing ran");
});
