/**
 * `.keras` archives as a weights source: the layer keys of Keras 2.15 and Keras 3, damaged
 * archives, and (slow) parity: Keras 2.15 and Keras 3 archives of the same random weights give
 * exactly the output of the .h5 route.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, truncateSync, watch, writeFileSync } from "node:fs";
import { HOST_TAG } from "../../src/util/atomic";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { zipSync, strToU8 } from "fflate";
import { selectBackend } from "../../src/backend/select";
import { TlrunError } from "../../src/errors";
import { buildBase } from "../../src/models/build";
import { archiveKeys, readWeightsFile, toSnakeCase } from "../../src/models/keras-archive";
import { loadArtifacts } from "../../src/models/source";
import { expectedWeights, mapWeights } from "../../src/models/weights/map";
import { tempDir } from "../helpers";
import { tinyArchitecture } from "./h5-fixtures";
import { serveFiles } from "./serve";
import { createHash } from "node:crypto";
import { loadArchitectureArtifacts, prepareArchitecture } from "../../src/models/weights/prepare";

const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 30 * 60_000 };
const ROOT = resolve(__dirname, "../../..");
const isError = (re: RegExp) => (e: Error) => e instanceof TlrunError && re.test(e.message);

type H5 = typeof import("h5wasm");
const dynamicImport = new Function("s", "return import(s)") as (s: string) => Promise<H5>;

/** The tiny architecture's layers as config.json lists them. */
const TINY_CONFIG = [
  { class_name: "InputLayer", name: "input_1" },
  { class_name: "Conv2D", name: "c1" },
  { class_name: "Conv2D", name: "c2" },
];
const TINY_VARS: Array<[string, number[][]]> = [["input_1", []], ["c1", [[3, 3, 3, 4], [4]]], ["c2", [[3, 3, 4, 2], [2]]]];

/** A .keras archive as Keras writes it; `keys` are the groups under layers/ (values count up by 0.001). */
async function writeArchive(path: string, keys: string[], vars = TINY_VARS, version = "3.6.0"): Promise<void> {
  const m = await dynamicImport("h5wasm/node");
  await m.ready;
  const h5 = `${path}.weights.h5`;
  const f = new m.File(h5, "w");
  let i = 0;
  try {
    const layers = f.create_group("layers");
    vars.forEach(([, shapes], li) => {
      const v = layers.create_group(keys[li]!).create_group("vars");
      shapes.forEach((shape, k) => {
        const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => i++ * 0.001);
        v.create_dataset({ name: String(k), data, shape });
      });
    });
    f.create_group("vars");
  } finally {
    f.close();
  }
  const config = { class_name: "Functional", config: { name: "tiny", layers: TINY_CONFIG } };
  writeFileSync(path, zipSync({
    "metadata.json": strToU8(JSON.stringify({ keras_version: version })),
    "config.json": strToU8(JSON.stringify(config)),
    "model.weights.h5": new Uint8Array(readFileSync(h5)),
  }, { level: 0 })); // stored, not deflated, as Keras writes it
}

test("layer keys: Keras' snake-cased class names, numbered in layer order", () => {
  assert.deepEqual(["Conv2D", "BatchNormalization", "MaxPooling2D", "InputLayer", "ReLU", "_Private"].map(toSnakeCase),
    ["conv2d", "batch_normalization", "max_pooling2d", "input_layer", "re_lu", "private__private"]);
  const layers = [{ class_name: "InputLayer", name: "x" }, ...Array.from({ length: 11 }, (_, i) => ({ class_name: "Conv2D", name: `b${i}` }))];
  assert.deepEqual(archiveKeys(layers, "class").slice(0, 3), ["input_layer", "conv2d", "conv2d_1"]);
  assert.equal(archiveKeys(layers, "class")[11], "conv2d_10");
  assert.deepEqual(archiveKeys(layers, "name").slice(0, 2), ["x", "b0"]);
});

test("a .keras archive maps by layer name like the .h5 route, in both key layouts", async (t) => {
  const dir = tempDir(t);
  const arch = tinyArchitecture();
  const expected = await expectedWeights(arch.topology());
  for (const [file, keys] of [["class.keras", ["input_layer", "conv2d", "conv2d_1"]], ["named.keras", ["input_1", "c1", "c2"]]] as const) {
    await writeArchive(join(dir, file), [...keys]);
    const w = await readWeightsFile(join(dir, file));
    assert.equal(w.layout, "keras");
    assert.deepEqual([...w.layers.keys()], ["input_1", "c1", "c2"]);
    const m = mapWeights(w, expected, arch.name);
    assert.deepEqual(m.weightSpecs.map((s) => s.name), ["c1/kernel", "c1/bias", "c2/kernel", "c2/bias"]);
    const data = new Float32Array(m.weightData);
    assert.ok(Math.abs(data[108]! - 0.108) < 1e-6 && Math.abs(data[185]! - 0.185) < 1e-6, file);
  }
});

test("an archive's weights are unpacked under $TLRUN_CACHE/.scratch, not TMPDIR, removed after, and a killed reader's are swept", async (t) => {
  const dir = tempDir(t);
  const saved = { cache: process.env.TLRUN_CACHE, tmp: process.env.TMPDIR };
  t.after(() => {
    for (const [k, v] of [["TLRUN_CACHE", saved.cache], ["TMPDIR", saved.tmp]] as const) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  process.env.TLRUN_CACHE = join(dir, "cache");
  process.env.TMPDIR = join(dir, "tmp");
  mkdirSync(process.env.TMPDIR);
  const scratch = join(dir, "cache", ".scratch");
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  const killed = join(scratch, `keras.tmp-${HOST_TAG}-${dead}-1-0`);
  mkdirSync(killed, { recursive: true });
  await writeArchive(join(dir, "m.keras"), ["input_layer", "conv2d", "conv2d_1"]);
  const seen: string[] = [];
  const watcher = watch(scratch, (_, name) => name && seen.push(String(name)));
  try {
    assert.equal((await readWeightsFile(join(dir, "m.keras"))).layers.size, 3);
    await new Promise((r) => setTimeout(r, 100)); // the watcher's events arrive on the event loop
  } finally {
    watcher.close();
  }
  assert.ok(seen.some((n) => n.startsWith(`keras.tmp-${HOST_TAG}-${process.pid}-`)), `written under ${scratch}: saw ${seen.join(", ")}`);
  assert.deepEqual(readdirSync(scratch), [], "its own folder removed, the killed reader's swept");
  assert.deepEqual(readdirSync(process.env.TMPDIR), []);
});

test("a damaged, incomplete or mismatched .keras archive is an error naming the file", async (t) => {
  const dir = tempDir(t);
  const arch = tinyArchitecture();
  const good = join(dir, "good.keras");
  await writeArchive(good, ["input_layer", "conv2d", "conv2d_1"]);
  const cut = join(dir, "cut.keras");
  writeFileSync(cut, readFileSync(good));
  truncateSync(cut, Math.floor(readFileSync(good).byteLength / 2));
  await assert.rejects(readWeightsFile(cut), isError(/cut\.keras: cannot unzip the \.keras archive \(truncated or damaged\?\).*download or save it again/));
  const html = join(dir, "page.keras");
  writeFileSync(html, "<!doctype html><html>sign in</html>");
  await assert.rejects(readWeightsFile(html), isError(/page\.keras: not a \.keras archive .*looks like an HTML page/));
  const partial = join(dir, "partial.keras");
  writeFileSync(partial, zipSync({ "config.json": strToU8("{}") }));
  await assert.rejects(readWeightsFile(partial), isError(/partial\.keras: the \.keras archive has no model\.weights\.h5 \(it holds: config\.json\)/));
  const other = join(dir, "other.keras");
  await writeArchive(other, ["input_layer", "conv2d", "dense"]);
  await assert.rejects(readWeightsFile(other), isError(/other\.keras: layer 'c2' of config\.json has no weights group 'layers\/conv2d_1'/));
  const wide = join(dir, "wide.keras");
  await writeArchive(wide, ["input_layer", "conv2d", "conv2d_1"], [["input_1", []], ["c1", [[3, 3, 3, 4], [4]]], ["c2", [[3, 3, 4, 8], [8]]]]);
  const w = await readWeightsFile(wide);
  await assert.rejects(async () => mapWeights(w, await expectedWeights(arch.topology()), arch.name),
    isError(/wide\.keras: layer 'c2' weight 'c2\/vars\/0' has shape \[3, 3, 4, 8\] in the file, tiny expects \[3, 3, 4, 2\]/));
});

test("a .keras URL#sha256 is downloaded, told from an .h5 by its zip signature, converted and loaded", async (t) => {
  const dir = tempDir(t);
  process.env.TLRUN_CACHE = join(dir, "cache");
  t.after(() => delete process.env.TLRUN_CACHE);
  await writeArchive(join(dir, "m.keras"), ["input_layer", "conv2d", "conv2d_1"]);
  const bytes = readFileSync(join(dir, "m.keras"));
  const srv = await serveFiles(t, { "/m.keras": bytes });
  const url = `${srv.url("/m.keras")}#sha256=${createHash("sha256").update(bytes).digest("hex")}`;
  const arch = tinyArchitecture();
  await prepareArchitecture(arch, url, dir);
  const a = loadArchitectureArtifacts(arch, url, dir);
  assert.deepEqual(a.weightSpecs.map((s) => s.name), ["c1/kernel", "c1/bias", "c2/kernel", "c2/bias"]);
  assert.ok(Math.abs(new Float32Array(a.weightData)[108]! - 0.108) < 1e-6);
  assert.equal(srv.requests.length, 1);
});

let python2 = "";
let python3 = "";
before(async () => {
  if (process.env.TLRUN_FAST) return;
  const setup = (script: string): string => {
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/python", script)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    assert.equal(r.status, 0, `could not set up the venv of ${script}`);
    return r.stdout.trim();
  };
  python2 = setup("setup-keras.mjs");
  python3 = setup("setup-keras3.mjs");
  await selectBackend("auto");
});

for (const [arch, cut] of [["vgg16", "block5_pool"], ["mobilenet_v2", "out_relu"]] as const) {
  test(`${arch}: Keras 2.15 and Keras 3 .keras archives give the .h5 route's output exactly`, SLOW, async (t) => {
    const dir = tempDir(t, `tlrun-keras-${arch}-`);
    process.env.TLRUN_CACHE = join(dir, "cache");
    t.after(() => delete process.env.TLRUN_CACHE);
    const run = (python: string, script: string, args: string[]): void => {
      const r = spawnSync(python, [join(ROOT, "scripts/python", script), arch, "64", dir, ...args], { encoding: "utf8", env: { ...process.env, KERAS_BACKEND: "jax" } });
      assert.equal(r.status, 0, r.stderr);
    };
    run(python2, "keras_parity.py", ["1"]);
    run(python3, "keras3_archive.py", []);
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { input_shape: number[] };
    const raw = readFileSync(join(dir, "input.bin"));
    const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), meta.input_shape);
    const keras = new Float32Array(readFileSync(join(dir, "output.bin")).buffer.slice(0));
    const outputOf = async (weights: string): Promise<Float32Array> => {
      const model = await buildBase(loadArtifacts(arch, dir, weights), cut, [64, 64]);
      const y = model.predict(x) as tf.Tensor;
      const data = (await y.data()) as Float32Array;
      y.dispose();
      model.dispose();
      return data;
    };
    try {
      const h5 = await outputOf("weights.h5");
      for (const file of ["model.keras", "model3.keras"]) {
        const got = await outputOf(file);
        assert.deepEqual(got, h5, `${file} gives exactly the .h5 route's output`);
      }
      const scale = keras.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = h5.reduce((m, v, i) => Math.max(m, Math.abs(v - keras[i]!)), 0);
      assert.ok(scale > 0 && diff / scale < 1e-4, `against Keras: ${diff / scale}`);
    } finally {
      x.dispose();
    }
  });
}
