import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { validateFile } from "../../src/config";
import { formatProblem } from "../../src/errors";

/** Repository root, from dist/test/config or test/config. */
const ROOT = resolve(__dirname, __dirname.includes(`${join("dist", "test")}`) ? "../../.." : "../..");
const DIR = join(ROOT, "pipelines");
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort() : [];

test("shipped pipelines folder is found", () => {
  assert.ok(existsSync(join(ROOT, "package.json")), `no package.json in ${ROOT}`);
});

for (const f of files) {
  test(`shipped pipeline validates: pipelines/${f}`, () => {
    const result = validateFile(join(DIR, f));
    assert.equal(result.ok, true, result.problems.map(formatProblem).join("\n"));
  });
}
