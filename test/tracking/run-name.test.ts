/** Run-name templates: filled in from the run, and an unknown placeholder is a located config error. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateFile } from "../../src/config";
import { placeholdersOf, renderRunName } from "../../src/config/run-name";

test("a template is filled in; a placeholder without a value stays as written", () => {
  assert.deepEqual(placeholdersOf("{name}-{hash}-{n}"), ["name", "hash", "n"]);
  assert.equal(renderRunName("{name}-{hash}-{n}", { name: "chest", hash: "3f2a9c1", n: 2 }), "chest-3f2a9c1-2");
  assert.equal(renderRunName("{name}-s{seed}", { name: "chest" }), "chest-s{seed}");
});

test("tracking.run_name with an unknown placeholder fails validate at its line, listing the known ones", () => {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-run-name-"));
  try {
    const file = join(dir, "p.yaml");
    writeFileSync(file, `name: x\ndata: {dir: d}\ntracking:\n  run_name: "{name}-{date}"\n`);
    const [p, ...rest] = validateFile(file).problems;
    assert.equal(rest.length, 0);
    assert.equal(`${p!.location?.line}:${p!.location?.col}`, "4:13");
    assert.match(p!.message, /^tracking.run_name uses \{date\}, which is not a placeholder; the placeholders are \{name\} \{hash\} \{n\} \{seed\} \{run_id\}$/);
    writeFileSync(file, `name: x\ndata: {dir: d}\ntracking:\n  run_name: "{name}-{hash}-s{seed}-{n}"\n`);
    assert.deepEqual(validateFile(file).problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
