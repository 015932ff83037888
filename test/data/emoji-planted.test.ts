import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { PLANTED_TRUTH, applyTransforms, buildPlantedDataset, type PlantedTruth } from "../../src/data/emoji-planted";
import { plantProblems, type SourceImage } from "../../src/data/planted-plan";
import { scanDataset } from "../../src/data/scan";

const root = mkdtempSync(join(tmpdir(), "tlrun-planted-"));
after(() => rmSync(root, { recursive: true, force: true }));

const sources: SourceImage[] = [];
for (const cls of ["a", "b", "c", "d"]) for (let i = 0; i < 100; i++) sources.push({ src: `${cls}${i}.png`, cls, name: `${cls}${i}.png` });
const sha256File = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const OPTS = { seed: 3, near: 20, exact: 10, flipShare: 0.05, split: { train: 0.7, val: 0.15 } };

describe("what the planted dataset plants", () => {
  it("is a function of the sources and the seed", () => {
    assert.deepEqual(plantProblems(sources, OPTS), plantProblems(sources, OPTS));
    assert.notDeepEqual(plantProblems(sources, OPTS).near, plantProblems(sources, { ...OPTS, seed: 4 }).near);
  });

  it("copies training images into val and test, mixes the edits, and keeps the truths apart", () => {
    const plan = plantProblems(sources, OPTS);
    assert.equal(plan.near.length, 20);
    for (const n of plan.near) {
      assert.equal(plan.placed[n.original]!.split, "train");
      assert.notEqual(n.split, "train");
      assert.ok(n.transforms.length >= 1 && n.transforms.length <= 3);
      for (const t of n.transforms) {
        if (t.kind === "jpeg") assert.ok(t.quality >= 60 && t.quality <= 90);
        if (t.kind === "resize") assert.ok(t.scale >= 0.6 && t.scale <= 1.4);
        if (t.kind === "crop") assert.ok(t.fraction >= 0.02 && t.fraction <= 0.06);
      }
    }
    assert.equal(new Set(plan.near.map((n) => n.transforms.map((t) => t.kind).join("+"))).size, 7, "every mix of the three edits is planted");
    assert.equal(plan.exact.filter((e) => e.split !== plan.placed[e.original]!.split).length, 5, "half the exact copies cross a split");
    const trainCount = plan.placed.filter((p) => p.split === "train").length;
    assert.equal(plan.flipped.length, Math.round(trainCount * 0.05));
    const involved = new Set([...plan.near.map((n) => n.original), ...plan.exact.map((e) => e.original)]);
    for (const i of plan.flipped) {
      const p = plan.placed[i]!;
      assert.equal(p.split, "train");
      assert.notEqual(p.folder, p.cls, "a flipped image sits in another class's folder");
      assert.ok(!involved.has(i), "a flipped image is not also the original of a copy");
    }
    const names = [...plan.near, ...plan.exact].map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[0-9a-f]{6}\.(png|jpg)$/);
  });
});

describe("the planted edits", () => {
  it("crops, resizes and encodes as recorded", async () => {
    const png = await sharp({ create: { width: 128, height: 128, channels: 3, background: "#3366cc" } }).png().toBuffer();
    const out = await applyTransforms(png, 128, [{ kind: "crop", fraction: 0.05, left: 0.5, top: 0 }, { kind: "resize", scale: 0.75 }, { kind: "jpeg", quality: 70 }]);
    const meta = await sharp(out).metadata();
    assert.equal(meta.format, "jpeg");
    assert.equal(meta.width, 96);
    const cropped = await sharp(await applyTransforms(png, 128, [{ kind: "crop", fraction: 0.05, left: 0.5, top: 0 }])).metadata();
    assert.deepEqual([cropped.format, cropped.width, cropped.height], ["png", 122, 122]);
  });
});

describe("tlrun dataset emoji-planted", () => {
  it("writes a presplit folder whose planted.json matches the files, and the same bytes twice", async () => {
    const truth = await buildPlantedDataset({ out: join(root, "a") });
    const disk = JSON.parse(readFileSync(join(root, "a", PLANTED_TRUTH), "utf8")) as PlantedTruth;
    assert.deepEqual(disk, truth);
    const scan = scanDataset(join(root, "a"), { excludeClasses: [] });
    assert.equal(scan.layout, "presplit");
    assert.equal(scan.items.length, truth.images);
    const split = new Map(scan.items.map((i) => [i.rel, i]));
    for (const n of truth.near) {
      assert.equal(split.get(n.original)?.split, "train");
      assert.ok(["val", "test"].includes(split.get(n.copy)!.split!));
    }
    for (const e of truth.exact) assert.equal(await sha256File(join(root, "a", e.copy)), await sha256File(join(root, "a", e.original)));
    for (const f of truth.flipped) assert.equal(split.get(f.path)?.label, f.label);
    const mtime = statSync(join(root, "a", PLANTED_TRUTH)).mtimeMs;
    await buildPlantedDataset({ out: join(root, "a") });
    assert.equal(statSync(join(root, "a", PLANTED_TRUTH)).mtimeMs, mtime, "a rerun with the same recipe writes nothing");
    await buildPlantedDataset({ out: join(root, "b") });
    for (const n of truth.near.slice(0, 10)) assert.equal(await sha256File(join(root, "b", n.copy)), await sha256File(join(root, "a", n.copy)));
  });
});
