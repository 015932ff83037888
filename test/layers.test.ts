import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir, writeTree } from "./helpers";

const ROOT = join(__dirname, "..", "..");
const CHECK = join(ROOT, "scripts", "check-layers.mjs");

function checkLayers(root?: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [CHECK, ...(root ? [root] : [])], { encoding: "utf8" });
  assert.equal(r.stderr, "");
  return { status: r.status, lines: r.stdout.split("\n").filter((l) => l.startsWith("src/") || l.startsWith("import cycle")) };
}

test("src imports only down the layers, without cycles", () => {
  const r = checkLayers();
  if (r.lines.length) assert.fail(`scripts/check-layers.mjs found:\n${r.lines.join("\n")}`);
  assert.equal(r.status, 0);
});

test("the check reports an upward import, a cycle and an unplaced folder, and passes once they are gone", (t) => {
  const root = tempDir(t, "tlrun-layers-");
  writeTree(root, {
    "src/config/types.ts": `export type Preprocessing = "torch";\n`,
    "src/models/source.ts": [
      `// import { loadConfig } from "../cli/main"; a comment is not an import`,
      `const text = 'import "../sweep/run"';`,
      `import type { Preprocessing } from "../config/types";`,
      `export const p: Preprocessing | string = text;`,
    ].join("\n"),
    "src/util/a.ts": `import { b } from "./b";\nexport const a = () => b();\n`,
    "src/util/b.ts": `export function b() { return require("./c.js").c; }\n`,
    "src/util/c.ts": `export const c = async () => (await import("./a")).a;\n`,
    "src/extras/x.ts": `export const x = 1;\n`,
  });
  const r = checkLayers(root);
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [
    "src/extras is in no layer: add it to LAYERS in scripts/check-layers.mjs (first seen in src/extras/x.ts)",
    "src/models/source.ts:3 imports src/config/types.ts (config, layer 3) from models (layer 2)",
    "import cycle: src/util/a.ts -> src/util/b.ts -> src/util/c.ts -> src/util/a.ts",
  ]);

  writeTree(root, {
    "src/models/source.ts": `export type Preprocessing = "torch";\n`,
    "src/config/types.ts": `export type { Preprocessing } from "../models/source";\n`,
    "src/util/c.ts": `export const c = 1;\n`,
    "src/cache/x.ts": `export { c } from "../util/c";\n`,
  });
  rmSync(join(root, "src", "extras"), { recursive: true });
  assert.deepEqual(checkLayers(root), { status: 0, lines: [] });
});
