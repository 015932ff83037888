import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMANDS, main } from "../../src/cli/main";

/** Run the CLI in this process and capture what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const [o, e] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const CACHE_SUBCOMMANDS = ["ls", "verify", "gc"];

test("every command and cache subcommand answers --help and -h with its own usage on stdout, exit 0", async () => {
  const lines = [...Object.keys(COMMANDS).map((c) => [c]), ...CACHE_SUBCOMMANDS.map((s) => ["cache", s])];
  assert.ok(lines.length >= 16, "the list comes from COMMANDS");
  for (const words of lines)
    for (const flag of ["--help", "-h"]) {
      const r = await cli([...words, flag]);
      const what = [...words, flag].join(" ");
      assert.equal(r.code, 0, `${what}: ${r.err}`);
      assert.equal(r.err, "", `${what} writes nothing on stderr`);
      assert.ok(r.out.startsWith(`tlrun ${words[0]}`), `${what} prints its own usage, got: ${r.out.slice(0, 80)}`);
      assert.ok(r.out.endsWith("\n"));
    }
});

test("--help wins over what would be a usage error, and a flag's value is not taken for it", async () => {
  for (const args of [["run", "--help", "--bogus"], ["run", "-h"], ["dataset", "--help"], ["plan", "a.yaml", "b.yaml", "-h"], ["export", "--format", "x", "-h"], ["models", "nope", "--help"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.err}`);
    assert.match(r.out, new RegExp(`^tlrun ${args[0]}`));
  }
  // after `--` it is an argument; as --set's value it is a value: neither asks for help
  const after = await cli(["validate", "--", "-h"]);
  assert.equal(after.code, 2);
  assert.equal(after.out, "");
  const value = await cli(["validate", "p.yaml", "--set", "-h"]);
  assert.equal(value.code, 2);
  assert.match(value.err, /'--set' argument is ambiguous/);
});

test("a usage error names the problem and ends with the command's usage line, on stderr, exit 2", async () => {
  const missing = await cli(["run"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /expected 1 argument\(s\), got 0/);
  assert.match(missing.err, /usage: tlrun run <pipeline\.yaml> .*\(--help for more\)/);
  const unknown = await cli(["dataset", "emoji", "--sise", "32"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown option --sise did you mean 'size'\?\nusage: tlrun dataset emoji/);
  assert.doesNotMatch(missing.err + unknown.err, /\n\s+at /);
});

test("tlrun --help lists every command", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(r.out, new RegExp(`^ {2}tlrun ${name}\\b`, "m"), name);
});
