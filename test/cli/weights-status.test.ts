import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { markVerified } from "../../src/models/weights/verify";
import { ARCHITECTURES } from "../../src/models/zoo";
import { tempDir } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
/**
 * The embedded model's weights are in the nsfwjs package: offline when the project has it (the
 * test's fresh $TLRUN_CACHE holds no install of its own), installed on first use when not, as on
 * a fresh clone before the quickstart has run.
 */
const NSFWJS_HERE = existsSync(join(ROOT, "node_modules", "nsfwjs", "package.json"));
const run = promisify(execFile);

/** A cache where vgg16's file is present and stamped as checked, and nothing else. */
async function cacheWithVgg16(root: string): Promise<string> {
  const cache = join(root, "cache");
  const vgg = ARCHITECTURES.vgg16!;
  mkdirSync(join(cache, "weights"), { recursive: true });
  const path = join(cache, "weights", vgg.imagenet.file);
  writeFileSync(path, "stand-in bytes");
  await markVerified(path, vgg.imagenet.hash!);
  return cache;
}

interface Row { status: string; offline: boolean; file: string; bytes: number | null }

test("models and doctor show each architecture's ImageNet weights: embedded (offline), cached, or missing with file and size", async (t) => {
  const root = tempDir(t);
  const env = { ...process.env, TLRUN_CACHE: await cacheWithVgg16(root), NO_COLOR: "1" };
  const tlrun = (args: string[]) => run(process.execPath, [BIN, ...args], { cwd: root, env, encoding: "utf8" });
  const [models, modelsJson, doctor, doctorJson] = await Promise.all([tlrun(["models"]), tlrun(["models", "--json"]), tlrun(["doctor"]), tlrun(["doctor", "--json"])]);

  assert.match(models.stdout, NSFWJS_HERE ? /^mobilenet_v2 .* embedded \(offline\)$/m : /^mobilenet_v2 .* embedded \(nsfwjs installed on first use\)$/m);
  assert.match(models.stdout, /^vgg16 .* cached$/m);
  assert.match(models.stdout, /^resnet50 .* missing: resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5 \(94\.8 MB\)$/m);
  assert.doesNotMatch(models.stdout, /not cached/);
  const rows = Object.fromEntries((JSON.parse(modelsJson.stdout) as { architectures: Array<{ name: string; imagenet: Row }> }).architectures.map((a) => [a.name, a.imagenet]));
  assert.deepEqual([rows.mobilenet_v2!.status, rows.mobilenet_v2!.offline], ["embedded", NSFWJS_HERE]);
  assert.deepEqual([rows.vgg16!.status, rows.vgg16!.offline], ["cached", true]);
  assert.deepEqual([rows.resnet50!.status, rows.resnet50!.offline, rows.resnet50!.bytes], ["missing", false, 94765736]);

  const section = doctor.stdout.slice(doctor.stdout.indexOf("\nweights:\n"), doctor.stdout.indexOf("\nextras:\n"));
  assert.match(section, NSFWJS_HERE ? /^ {2}mobilenet_v2 +embedded \(offline\): nsfwjs@[\d.]+ mobilenet_v2 sha256 [0-9a-f]{16}…$/m : /^ {2}mobilenet_v2 +embedded \(nsfwjs installed on first use\)$/m);
  assert.match(section, /^ {2}vgg16 +cached$/m);
  assert.match(section, /^ {2}efficientnet_b0 +missing: efficientnetb0_notop\.h5 \(16\.7 MB\)$/m);
  assert.equal(section.match(/^ {2}\S+ {2,}(embedded|cached|missing)/gm)!.length, Object.keys(ARCHITECTURES).length, "one line per architecture");
  const weights = (JSON.parse(doctorJson.stdout) as { weights: Array<Row & { model: string; sha256: string | null }> }).weights;
  assert.deepEqual(weights.map((w) => w.model), Object.keys(ARCHITECTURES));
  const byName = Object.fromEntries(weights.map((w) => [w.model, w]));
  assert.deepEqual([byName.mobilenet_v2!.status, byName.mobilenet_v2!.offline, byName.mobilenet_v2!.sha256?.length], ["embedded", NSFWJS_HERE, NSFWJS_HERE ? 64 : undefined]);
  assert.deepEqual([byName.vgg16!.status, byName.resnet50!.status, byName.resnet50!.file], ["cached", "missing", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"]);
});
