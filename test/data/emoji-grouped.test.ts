import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildGroupedEmojiDataset } from "../../src/data/emoji-grouped";
import { scanTable } from "../../src/data/scan-table";
import { TlrunError } from "../../src/errors";
import { tempDir } from "../helpers";

test("emoji-grouped is HAM10000-shaped: opaque ids in one folder, two vendors per lesion, one label per lesion", async (t) => {
  const root = tempDir(t);
  const out = join(root, "eg");
  const r = await buildGroupedEmojiDataset(out);
  const [header, ...rows] = readFileSync(join(out, "labels.csv"), "utf8").trim().split("\n");
  assert.equal(header, "image_id,dx,lesion_id,vendor");
  assert.equal(rows.length, r.images);
  assert.equal(r.images, 2 * r.groups);
  assert.ok(r.groups > 1800, String(r.groups));
  const byLesion = new Map<string, string[][]>();
  for (const row of rows) {
    const cells = row.split(",");
    assert.match(cells[0]!, /^EMJ_\d{7}$/);
    byLesion.set(cells[2]!, [...(byLesion.get(cells[2]!) ?? []), cells]);
  }
  assert.equal(byLesion.size, r.groups);
  for (const [lesion, twins] of byLesion) {
    assert.deepEqual(twins.map((c) => c[3]).sort(), ["google", "twitter"], lesion);
    assert.equal(twins[0]![1], twins[1]![1], `${lesion}: both drawings carry one label`);
  }
  // The ids are shuffled: a lesion's two images are not neighbours in the table.
  const adjacent = rows.filter((row, i) => i > 0 && row.split(",")[2] === rows[i - 1]!.split(",")[2]).length;
  assert.ok(adjacent < r.groups / 20, `${adjacent} twins are neighbours`);
  assert.equal(readdirSync(join(out, "images")).length, r.images);

  const scan = scanTable({ dir: out, file: join(out, "labels.csv"), shown: "labels.csv", columns: { path: "", path_template: "images/{image_id}.png", label: "dx", split: "" }, onMissing: "error", excludeClasses: [], locate: () => undefined });
  assert.deepEqual(scan.problems, []);
  assert.equal(scan.scan.classes.length, 9);
  assert.deepEqual(Object.keys(scan.scan.items[0]!.columns!), ["image_id", "lesion_id", "vendor"], "the group column is kept on each item, for group_by");

  const again = await buildGroupedEmojiDataset(out);
  assert.deepEqual(again, r, "a rerun finds its marker and returns at once");
  writeFileSync(join(root, "x"), "");
  await assert.rejects(buildGroupedEmojiDataset(join(root, "x")), (e) => e instanceof TlrunError && /is not a folder/.test(e.message));
});
