import assert from "node:assert/strict";
import { test } from "node:test";
import { assignGroupSplits, type GroupedItem } from "../../src/data/group-split";
import { groupFromPattern, groupsOf } from "../../src/data/group-of";
import { groupCounts } from "../../src/data/group-counts";
import { assignSplits, type SplitRatios } from "../../src/data/split";
import { Rng } from "../../src/util/rng";

const RATIOS: SplitRatios = { train: 0.7, val: 0.15, test: 0.15, stratify: true };
/** HAM10000's classes and their shares of its 10,015 images. */
const HAM = { nv: 0.67, mel: 0.111, bkl: 0.11, bcc: 0.051, akiec: 0.033, vasc: 0.014, df: 0.011 };
const CLASSES = Object.keys(HAM);

type Item = GroupedItem & { rel: string };

/**
 * A HAM10000-shaped set: lesions of 1 to 6 images (most have one or two, as in HAM10000's 7,470
 * lesions for 10,015 images), each of one class; `mixed` lesions get one image of another class.
 */
function hamShaped(lesions: number, seed: number, mixed = 0): Item[] {
  const rng = new Rng(seed);
  const shares = Object.values(HAM);
  const items: Item[] = [];
  for (let l = 0; l < lesions; l++) {
    let u = rng.next();
    let label = 0;
    while (label < shares.length - 1 && u >= shares[label]!) u -= shares[label++]!;
    const r = rng.next();
    const size = r < 0.68 ? 1 : r < 0.88 ? 2 : r < 0.95 ? 3 : r < 0.98 ? 4 : 1 + Math.ceil(rng.next() * 5);
    const group = `HAM_${String(l).padStart(7, "0")}`;
    for (let k = 0; k < size; k++) items.push({ rel: `${group}_${k}.jpg`, label: l < mixed && k === 0 ? (label + 1) % shares.length : label, split: "train", group });
  }
  return items;
}

const splitOf = (items: Item[]): Map<string, string> => new Map(items.map((i) => [i.rel, i.split]));
const share = (items: Item[], label: number, split: string): number => items.filter((i) => i.label === label && i.split === split).length / items.filter((i) => i.label === label).length;

test("every image of a group lands in its group's split, and the split is seeded", () => {
  const items = hamShaped(7470, 1, 40);
  assignGroupSplits(items, RATIOS, 7, CLASSES);
  const splitsOfGroup = new Map<string, Set<string>>();
  for (const i of items) splitsOfGroup.set(i.group, (splitsOfGroup.get(i.group) ?? new Set()).add(i.split));
  assert.ok([...splitsOfGroup.values()].every((s) => s.size === 1));
  assert.equal(groupCounts(items, CLASSES, "group_by lesion").leaked_test_images, 0);
  const again = hamShaped(7470, 1, 40);
  assignGroupSplits([...again].reverse(), RATIOS, 7, CLASSES);
  assert.deepEqual(splitOf(again), splitOf(items), "same seed and groups, any order: same split");
  const other = hamShaped(7470, 1, 40);
  assignGroupSplits(other, RATIOS, 8, CLASSES);
  const first = splitOf(items);
  assert.ok([...splitOf(other)].filter(([rel, s]) => first.get(rel) !== s).length > 1000, "another seed: another split");
});

test("stratified by class as far as groups allow: each class's shares within a group or two of the ratios", () => {
  const items = hamShaped(7470, 2);
  assignGroupSplits(items, RATIOS, 7, CLASSES);
  const total = (s: string): number => items.filter((i) => i.split === s).length / items.length;
  for (const [s, r] of [["train", 0.7], ["val", 0.15], ["test", 0.15]] as const) {
    assert.ok(Math.abs(total(s) - r) < 0.005, `${s}: ${total(s)} of the images, for ${r}`);
    CLASSES.forEach((c, label) => {
      const n = items.filter((i) => i.label === label).length;
      // Off by at most half a group (6 images at most) at each of the two cuts.
      assert.ok(Math.abs(share(items, label, s) - r) <= 6 / n + 1e-9, `${c} ${s}: ${share(items, label, s).toFixed(4)} of ${n}, for ${r}`);
    });
  }
});

test("stable: adding a group leaves the other classes as they were, and moves at most a few images at the cuts of its own", () => {
  const base = hamShaped(3000, 3);
  assignGroupSplits(base, RATIOS, 7, CLASSES);
  const before = splitOf(base);
  const rng = new Rng(9);
  let movedTotal = 0;
  for (let trial = 0; trial < 40; trial++) {
    const label = trial % CLASSES.length;
    const size = 1 + rng.int(4);
    const added: Item[] = Array.from({ length: size }, (_, k) => ({ rel: `NEW_${trial}_${k}.jpg`, label, split: "train", group: `NEW_${trial}` }));
    const items = [...base.map((i) => ({ ...i })), ...added];
    assignGroupSplits(items, RATIOS, 7, CLASSES);
    const moved = items.filter((i) => before.has(i.rel) && before.get(i.rel) !== i.split);
    assert.ok(moved.every((i) => i.label === label), "only the added group's class can move");
    // A group of k images shifts the cuts by about k images: with groups of up to 6, at most a
    // group or two at each of the two cuts can cross.
    assert.ok(moved.length <= 2 * (size + 6), `trial ${trial}: ${moved.length} images moved for a group of ${size}`);
    movedTotal += moved.length;
  }
  assert.ok(movedTotal / 40 < 8, `on average ${movedTotal / 40} of ${base.length} images moved`);

  // The image split, by contrast, reshuffles the whole class when one image is added.
  const flat = base.map((i) => ({ ...i }));
  assignSplits(flat, RATIOS, 7, CLASSES);
  const plus = [...flat.map((i) => ({ ...i })), { rel: "NEW.jpg", label: 0, split: "train" as const, group: "NEW" }];
  assignSplits(plus, RATIOS, 7, CLASSES);
  const flatBefore = splitOf(flat);
  const flatMoved = plus.filter((i) => i.rel !== "NEW.jpg" && flatBefore.get(i.rel) !== i.split).length;
  assert.ok(flatMoved > 100, `the image split moved ${flatMoved}`);
});

test("small classes still get a val and a test group; a group of mixed classes goes with its majority", () => {
  const items: Item[] = ["a", "b", "c"].flatMap((g) => [0, 1].map((k) => ({ rel: `${g}${k}`, label: 0, split: "train" as const, group: g })));
  items.push({ rel: "m0", label: 1, split: "train", group: "m" }, { rel: "m1", label: 1, split: "train", group: "m" }, { rel: "m2", label: 0, split: "train", group: "m" });
  assignGroupSplits(items, RATIOS, 1, ["x", "y"]);
  const split = (g: string): string => items.find((i) => i.group === g)!.split;
  assert.deepEqual(["a", "b", "c"].map(split).sort(), ["test", "train", "val"]);
  assert.equal(split("m"), "train", "class y's only group: train keeps one");
  const counts = groupCounts(items, ["x", "y"], "group_by id");
  assert.equal(counts.mixed_groups, 1);
  assert.deepEqual(counts.mixed_example, { group: "m", classes: ["x", "y"] });
});

test("group_pattern on ChestX-ray14 names: the first capture group, in the file name or, with a '/', in the path", () => {
  assert.equal(groupFromPattern("images_001/images/00000013_005.png", /^(\d+)_/), "00000013");
  assert.equal(groupFromPattern("Effusion/00000013_000.png", /^(\d+)_/), "00000013");
  assert.equal(groupFromPattern("Effusion/00000013_000.png", /^\d+/), "00000013", "no capture group: the whole match");
  assert.equal(groupFromPattern("train/NORMAL/p13/a.png", /^[^/]+\/[^/]+\/(p\d+)\//), "p13");
  assert.equal(groupFromPattern("NORMAL/scan.png", /^(\d+)_/), undefined);
  const { groups, missing } = groupsOf([{ rel: "x/00000013_000.png" }, { rel: "x/00000013_001.png" }, { rel: "x/00000014_000.png" }, { rel: "x/readme.png" }], { group_pattern: "^(\\d+)_" });
  assert.deepEqual(groups, ["00000013", "00000013", "00000014", undefined]);
  assert.deepEqual(missing, ["x/readme.png"]);
  const byColumn = groupsOf([{ rel: "a.jpg", columns: { lesion_id: "HAM_1" } }, { rel: "b.jpg", columns: { lesion_id: " " } }], { group_by: "lesion_id" });
  assert.deepEqual(byColumn, { groups: ["HAM_1", undefined], missing: ["b.jpg"] });
});
