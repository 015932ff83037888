import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation, resumeRunCommand, resumeSweepCommand } from "../../src/cli/resume-command";
import { shellQuote } from "../../src/util/shell-quote";

test("the run's resume command keeps every flag but --force, quoted for the shell", () => {
  const argv = ["run", "pipes/tb.yaml", "--force", "--set", "head.dropout=0.3", "--set", "name=my run's", "--backend", "wasm", "--force=true"];
  assert.equal(resumeRunCommand(argv, "tlrun"), `tlrun run pipes/tb.yaml --set head.dropout=0.3 --set 'name=my run'\\''s' --backend wasm`);
  // a value that looks like the flag stays, because it follows --set
  assert.equal(resumeRunCommand(["p.yaml", "--set=train.head.epochs=3"], "tlrun"), "tlrun p.yaml --set=train.head.epochs=3");
});

test("a sweep's resume command names the sweep and keeps the --set flags it was started with", () => {
  const argv = ["sweep", "p.yaml", "--set", "seed=7", "--resume", "--id", "old-sweep", "--parallel", "2"];
  assert.equal(resumeSweepCommand(argv, "p-sweep-20261205", "npx tlrun"), "npx tlrun sweep p.yaml --set seed=7 --parallel 2 --resume --id p-sweep-20261205");
  assert.equal(resumeSweepCommand(["sweep", "p.yaml", "--id=x", "--resume"], "s1", "tlrun"), "tlrun sweep p.yaml --resume --id s1");
});

test("a Redis password never reaches the screen in a hint", () => {
  const cmd = resumeSweepCommand(["sweep", "p.yaml", "--queue", "redis://:s3cret@10.0.0.5:6379/0"], "s1", "tlrun");
  assert.doesNotMatch(cmd, /s3cret/);
  assert.match(cmd, /--queue redis:\/\/:PASSWORD@10\.0\.0\.5:6379\/0 .*in place of PASSWORD/);
  assert.doesNotMatch(resumeSweepCommand(["sweep", "p.yaml", "--queue=rediss://u:s3cret@h"], "s1", "tlrun"), /s3cret/);
  assert.doesNotMatch(resumeSweepCommand(["sweep", "p.yaml", "--queue", "redis://s3cret@h:6379"], "s1", "tlrun"), /s3cret/, "a password written without a colon");
});

test("the command starts the way the user started tlrun", () => {
  assert.equal(invocation({ npm_command: "exec" }, "/x/node_modules/.bin/tlrun", "/x"), "npx tlrun");
  assert.equal(invocation({}, "/usr/local/bin/tlrun", "/x"), "tlrun");
  assert.equal(invocation({}, "/x/bin/tlrun.js", "/x"), "node bin/tlrun.js");
  assert.equal(invocation({}, "/opt/tl run/bin/tlrun.js", "/home/me"), `node '/opt/tl run/bin/tlrun.js'`);
});

test("shell quoting round-trips through sh", () => {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  for (const s of ["plain", "a b", "it's", "$HOME", "`x`", "a\"b", "", "x;rm -rf /", "ü"]) {
    const r = spawnSync("sh", ["-c", `printf %s ${shellQuote(s)}`], { encoding: "utf8" });
    assert.equal(r.stdout, s);
  }
});
