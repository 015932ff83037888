import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TlrunError } from "../../src/errors";
import { scanDataset } from "../../src/data/scan";

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** Build a folder from a map of relative path -> file content (null makes a folder). */
function tree(files: Record<string, string | null>): string {
  const root = mkdtempSync(join(tmpdir(), "tlrun-scan-"));
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    if (content === null) mkdirSync(abs, { recursive: true });
    else {
      mkdirSync(join(abs, ".."), { recursive: true });
      writeFileSync(abs, content);
    }
  }
  return root;
}

const reasonOf = (r: ReturnType<typeof scanDataset>, rel: string): string | undefined => r.skipped.find((s) => s.rel === rel)?.reason;

describe("scanDataset", () => {
  it("reads class folders, recursing but keeping the top-level class", () => {
    const root = tree({
      "cat/a.png": "x", "cat/B.JPG": "x", "cat/sub/c.webp": "x", "dog/d.jpeg": "x", "dog/e.TIFF": "x",
      "dog/notes.txt": "x", "dog/noext": "x", "dog/.hidden.png": "x", ".git/config": "x", "README.md": "x",
      "dog/pic.bmp": "x", "dog/x.png/inner.png": "x", "empty": null,
    });
    const r = scanDataset(root, { excludeClasses: [] });
    assert.equal(r.layout, "classes");
    assert.deepEqual(r.classes, ["cat", "dog"]);
    assert.deepEqual(r.items.map((i) => [i.rel, i.label]), [
      ["cat/B.JPG", "cat"], ["cat/a.png", "cat"], ["cat/sub/c.webp", "cat"], ["dog/d.jpeg", "dog"], ["dog/e.TIFF", "dog"],
    ]);
    assert.equal(r.items[0]!.abs, join(root, "cat/B.JPG"));
    assert.match(reasonOf(r, "dog/notes.txt")!, /not an image extension \(\.txt\)/);
    assert.equal(reasonOf(r, "dog/noext"), "no file extension");
    assert.match(reasonOf(r, "dog/pic.bmp")!, /BMP/);
    assert.match(reasonOf(r, "dog/x.png/")!, /folder named like an image/);
    assert.equal(reasonOf(r, "README.md"), "not inside a class folder");
    assert.equal(reasonOf(r, "empty/"), "class folder has no images");
    assert.ok(!r.skipped.some((s) => s.rel.includes(".hidden") || s.rel.includes(".git")), "hidden entries are silent");
  });

  it("reads a presplit layout and accepts validation/ for val", () => {
    const root = tree({ "train/a/1.png": "x", "train/b/2.png": "x", "validation/a/3.png": "x", "test/b/4.png": "x" });
    const r = scanDataset(root, { excludeClasses: [] });
    assert.equal(r.layout, "presplit");
    assert.deepEqual(r.classes, ["a", "b"]);
    assert.deepEqual(r.items.map((i) => [i.rel, i.label, i.split]), [
      ["test/b/4.png", "b", "test"], ["train/a/1.png", "a", "train"], ["train/b/2.png", "b", "train"], ["validation/a/3.png", "a", "val"],
    ]);
  });

  it("refuses links that leave the data folder and follows ones inside it", () => {
    const outside = tree({ "secret.png": "x", "dir/s.png": "x" });
    const root = tree({ "cat/a.png": "x", "dog/b.png": "x" });
    symlinkSync(join(outside, "secret.png"), join(root, "cat/out.png"));
    symlinkSync(join(outside, "dir"), join(root, "cat/outdir"));
    symlinkSync(join(root, "dog/b.png"), join(root, "cat/in.png"));
    symlinkSync(join(root, "cat"), join(root, "cat/loop"));
    symlinkSync(join(root, "nowhere.png"), join(root, "cat/broken.png"));
    const r = scanDataset(root, { excludeClasses: [] });
    assert.equal(reasonOf(r, "cat/out.png"), "link leads outside the data folder");
    assert.equal(reasonOf(r, "cat/outdir"), "link leads outside the data folder");
    assert.equal(reasonOf(r, "cat/broken.png"), "broken link");
    assert.match(reasonOf(r, "cat/loop/")!, /link loop/);
    assert.deepEqual(r.items.map((i) => i.rel), ["cat/a.png", "cat/in.png", "dog/b.png"]);
  });

  it("leaves out excluded classes and rejects unknown names with a suggestion", () => {
    const root = tree({ "cat/a.png": "x", "dog/b.png": "x" });
    const r = scanDataset(root, { excludeClasses: ["dog"] });
    assert.deepEqual(r.classes, ["cat"]);
    assert.equal(reasonOf(r, "dog/"), "excluded by data.exclude_classes");
    assert.throws(() => scanDataset(root, { excludeClasses: ["dgo"] }), (e: unknown) => e instanceof TlrunError && /did you mean 'dog'/.test(e.message));
  });

  it("gives clear errors for a missing folder, an empty one, and a mixed layout", () => {
    assert.throws(() => scanDataset("/no/such/tlrun/dir", { excludeClasses: [] }), (e: unknown) => e instanceof TlrunError && /data folder not found/.test(e.message));
    assert.throws(() => scanDataset(tree({ "a/notes.txt": "x" }), { excludeClasses: [] }), /no images found/);
    assert.throws(() => scanDataset(tree({ "train/a/1.png": "x", "cat/2.png": "x" }), { excludeClasses: [] }), /mixes split folders/);
  });
});
