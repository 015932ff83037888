/**
 * requireExtra's first-use install, with real npm installing a tiny package packed into a local
 * tarball (no registry): first install, reuse, a folder without the marker redone, an install
 * killed midway, two processes installing at once, and the messages when npm cannot do it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TlrunError } from "../../src/errors";
import { ensureExtra, installDir, locateExtra, type ExtraPackage } from "../../src/util/extras";
import { writeTree } from "../helpers";

const root = mkdtempSync(join(tmpdir(), "tlrun-extras-"));
const cache = join(root, "cache");
const saved = process.env.TLRUN_CACHE;
let pkg: ExtraPackage;

before(() => {
  process.env.TLRUN_CACHE = cache;
  const src = join(root, "fixture");
  writeTree(src, {
    "package.json": JSON.stringify({ name: "tlrun-extra-fixture", version: "1.0.0", main: "index.js" }),
    "index.js": "module.exports = { hello: 'fixture' };\n",
  });
  const r = spawnSync("npm", ["pack", "--silent", "--pack-destination", root], { cwd: src, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  pkg = { name: "tlrun-extra-fixture", version: "1.0.0", purpose: "a test fixture", spec: join(root, r.stdout.trim()) };
});

after(() => {
  if (saved === undefined) delete process.env.TLRUN_CACHE;
  else process.env.TLRUN_CACHE = saved;
  rmSync(root, { recursive: true, force: true });
});

/** ensureExtra, with the lines it printed. */
function ensure(p: ExtraPackage): { dir: string; lines: string[] } {
  const lines: string[] = [];
  const dir = ensureExtra(p, { log: (l) => lines.push(l) });
  return { dir, lines };
}

const packages = (): string[] => readdirSync(join(cache, "packages")).sort();

describe("extras installed on first use", () => {
  it("installs once, with one line, and loads from the cache", () => {
    assert.equal(locateExtra(pkg), undefined);
    const first = ensure(pkg);
    assert.equal(first.lines.length, 1);
    assert.match(first.lines[0]!, /^installing tlrun-extra-fixture@1\.0\.0 \(a test fixture\) into .*packages, once$/);
    assert.equal(first.dir, join(installDir(pkg), "node_modules", "tlrun-extra-fixture"));
    assert.equal(require(first.dir).hello, "fixture");
    assert.deepEqual(locateExtra(pkg), { dir: first.dir, from: "cache" });
    assert.deepEqual(packages(), ["tlrun-extra-fixture@1.0.0"], "no temporary folder left");
  });

  it("reuses the install without running npm", () => {
    const again = ensure(pkg);
    assert.deepEqual(again.lines, []);
    assert.equal(again.dir, join(installDir(pkg), "node_modules", "tlrun-extra-fixture"));
  });

  it("prefers the project's node_modules", () => {
    const yaml = { name: "yaml", version: "0.0.0", purpose: "never installed" };
    const found = locateExtra(yaml);
    assert.equal(found?.from, "project");
    assert.deepEqual(ensure(yaml).lines, []);
  });

  it("redoes a folder without the marker, and removes a dead process's temporary folder", () => {
    const home = installDir(pkg);
    rmSync(home, { recursive: true, force: true });
    writeTree(home, { "node_modules/tlrun-extra-fixture/package.json": "{\"name\": \"tlrun-extra-fixture\", \"ver" });
    const dead = `${home}.tmp-${hostname()}-999999999-1`;
    writeTree(dead, { "node_modules/tlrun-extra-fixture/index.js": "" });
    assert.equal(locateExtra(pkg), undefined, "a folder without the marker is not an install");
    const redone = ensure(pkg);
    assert.equal(redone.lines.length, 1);
    assert.equal(require(join(redone.dir, "package.json")).version, "1.0.0");
    assert.deepEqual(packages(), ["tlrun-extra-fixture@1.0.0"]);
  });

  it("recovers from an install killed midway", async () => {
    rmSync(join(cache, "packages"), { recursive: true, force: true });
    const child = spawn(process.execPath, ["-e", `require(${JSON.stringify(require.resolve("../../src/util/extras"))}).ensureExtra(${JSON.stringify(pkg)})`], {
      detached: true,
      stdio: "ignore",
      env: process.env,
    });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const t0 = Date.now();
    while (!existsSync(join(cache, "packages")) || !packages().some((n) => n.includes(".tmp-"))) {
      assert.ok(Date.now() - t0 < 20_000, "the child started no install");
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(-child.pid!, "SIGKILL"); // the child and the npm it started
    await exited;
    assert.equal(locateExtra(pkg), undefined, "a killed install is not taken as complete");
    const redone = ensure(pkg);
    assert.equal(redone.lines.length, 1);
    assert.equal(require(redone.dir).hello, "fixture");
    assert.deepEqual(packages(), ["tlrun-extra-fixture@1.0.0"], "the killed install's folder is removed");
  });

  it("two processes installing at once both get one complete install", async () => {
    rmSync(join(cache, "packages"), { recursive: true, force: true });
    const startAt = Date.now() + 1500; // both look for the package at the same moment
    const script = `const x = require(${JSON.stringify(require.resolve("../../src/util/extras"))});
      while (Date.now() < ${startAt}) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      const lines = [];
      const dir = x.ensureExtra(${JSON.stringify(pkg)}, { log: (l) => lines.push(l) });
      console.log(JSON.stringify({ dir, installed: lines.length, hello: require(dir).hello }));`;
    const runOne = (): Promise<{ dir: string; installed: number; hello: string }> =>
      new Promise((resolve, reject) => {
        const c = spawn(process.execPath, ["-e", script], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        c.stdout.on("data", (d: Buffer) => (out += d));
        c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${out}`))));
      });
    const [a, b] = await Promise.all([runOne(), runOne()]);
    assert.equal(a.dir, b.dir);
    assert.equal(a.hello, "fixture");
    assert.equal(b.hello, "fixture");
    assert.deepEqual([a.installed, b.installed], [1, 1], "both ran npm: the race happened");
    assert.deepEqual(packages(), ["tlrun-extra-fixture@1.0.0"], "the loser's folder is removed");
    assert.ok(existsSync(join(installDir(pkg), ".tlrun-installed.json")));
  });

  it("says what to run by hand when npm is missing", () => {
    const env = { PATH: process.env.PATH, npm_execpath: process.env.npm_execpath };
    process.env.PATH = join(root, "no-bin");
    delete process.env.npm_execpath;
    try {
      const other = { ...pkg, name: "tlrun-extra-missing" };
      assert.throws(() => ensure(other), (err: unknown) => {
        assert.ok(err instanceof TlrunError);
        assert.match(err.message, /could not install tlrun-extra-missing@1\.0\.0 into .* \(npm was not found\)/);
        assert.match(err.message, /hint: .*npm install tlrun-extra-missing@1\.0\.0$/);
        return true;
      });
    } finally {
      process.env.PATH = env.PATH;
      if (env.npm_execpath !== undefined) process.env.npm_execpath = env.npm_execpath;
    }
  });

  it("says what to run by hand when npm fails, and leaves nothing behind", () => {
    const bad = { ...pkg, name: "tlrun-extra-bad", spec: join(root, "no-such.tgz") };
    mkdirSync(join(cache, "packages"), { recursive: true });
    assert.throws(() => ensure(bad), (err: unknown) => {
      assert.ok(err instanceof TlrunError);
      assert.match(err.message, /could not install tlrun-extra-bad@1\.0\.0 into .* \(npm: enoent ENOENT: no such file or directory.*\)/);
      assert.match(err.message, /npm install tlrun-extra-bad@1\.0\.0$/);
      return true;
    });
    assert.ok(!packages().some((n) => n.startsWith("tlrun-extra-bad")));
  });
});
