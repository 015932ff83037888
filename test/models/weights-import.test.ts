import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TlrunError } from "../../src/errors";
import { importWeights } from "../../src/models/weights/import";
import { isAvailable, weightsFile } from "../../src/models/weights/sources";
import type { Architecture } from "../../src/models/zoo";
import { tempDir } from "../helpers";
import { TINY_LAYERS, tinyArchitecture, writeKerasH5 } from "./h5-fixtures";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");

/** A real Keras .h5 of the tiny architecture, and a pin table holding its md5 (as the zoo holds Keras' file_hash). */
async function pinnedTiny(t: import("node:test").TestContext): Promise<{ dir: string; h5: string; zoo: Record<string, Architecture> }> {
  const dir = tempDir(t);
  process.env.TLRUN_CACHE = join(dir, "cache");
  t.after(() => delete process.env.TLRUN_CACHE);
  const h5 = join(dir, "tiny.h5");
  await writeKerasH5(h5, TINY_LAYERS);
  const arch = tinyArchitecture();
  arch.imagenet.hash = md5(readFileSync(h5));
  return { dir, h5, zoo: { tiny: arch } };
}

test("a file whose md5 matches a pin is found by its hash and lands where the downloader looks, stamped", async (t) => {
  const { h5, zoo } = await pinnedTiny(t);
  const r = await importWeights(h5, { architectures: zoo });
  const w = weightsFile(zoo.tiny!, "imagenet", ROOT);
  assert.equal(r.arch.name, "tiny");
  assert.equal(r.checked, "md5");
  assert.equal(r.path, w.path);
  assert.deepEqual(readFileSync(r.path), readFileSync(h5));
  assert.ok(isAvailable(w), "plan and run see it as present");
  assert.deepEqual(readdirSync(join(process.env.TLRUN_CACHE!, "weights")).filter((n) => n.includes("import")), [], "no temporary copy left");
  const again = await importWeights(h5, { architectures: zoo });
  assert.equal(again.already, true);
});

test("a file that does not match the pin is refused with what was expected, and nothing is copied", async (t) => {
  const { dir, zoo } = await pinnedTiny(t);
  const wrong = join(dir, "tiny-wrong.h5");
  await writeKerasH5(wrong, TINY_LAYERS, "model"); // same layers, other bytes
  await assert.rejects(importWeights(wrong, { model: "tiny", architectures: zoo }), (e: Error) =>
    e instanceof TlrunError && e.exitCode === 1 && e.message.includes(`expected tiny.h5 (md5 ${zoo.tiny!.imagenet.hash})`) && e.message.includes(`this file has md5 ${md5(readFileSync(wrong))}`) && /nothing was copied/.test(e.message));
  assert.ok(!isAvailable(weightsFile(zoo.tiny!, "imagenet", ROOT)));
  assert.deepEqual(readdirSync(join(process.env.TLRUN_CACHE!, "weights")), []);
  await assert.rejects(importWeights(wrong, { architectures: zoo }), /none of the ImageNet weights files tlrun knows/);
  await assert.rejects(importWeights(wrong, { model: "tiyn", architectures: zoo }), /did you mean 'tiny'/);
});

test("with no published hash, the file's layers must fit the architecture", async (t) => {
  const { dir, h5, zoo } = await pinnedTiny(t);
  delete zoo.tiny!.imagenet.hash;
  const junk = join(dir, "junk.h5");
  writeFileSync(junk, randomBytes(5000));
  await assert.rejects(importWeights(junk, { model: "tiny", architectures: zoo }), TlrunError);
  assert.deepEqual(readdirSync(join(process.env.TLRUN_CACHE!, "weights")), []);
  const r = await importWeights(h5, { model: "tiny", architectures: zoo });
  assert.equal(r.checked, "layers");
  assert.ok(isAvailable(weightsFile(zoo.tiny!, "imagenet", ROOT)));
});

test("tlrun weights import: a wrong file for vgg16 exits 1 naming Keras' md5; --help exits 0", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5");
  writeFileSync(file, randomBytes(1000));
  const env = { ...process.env, TLRUN_CACHE: join(dir, "cache") };
  const r = spawnSync(process.execPath, [BIN, "weights", "import", file, "--model", "vgg16"], { encoding: "utf8", env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /is not vgg16's ImageNet weights: expected vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5 \(58\.9 MB, md5 6d6bbae143d832006294945121d1f1fc\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.ok(!existsSync(join(dir, "cache", "weights", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")));
  const help = spawnSync(process.execPath, [BIN, "weights", "import", "--help"], { encoding: "utf8", env });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^tlrun weights import <file\.h5> \[--model NAME\]/);
});
