import { validatePipeline } from "../executor/load";
import { EXIT, formatProblem } from "../errors";
import { SET_OPTION, parse } from "./args";

export const VALIDATE_USAGE = `tlrun validate <pipeline.yaml> [--set path=value]...
  check the file without running anything: the schema, then the cross-field rules
    --set path=value   override a config value (repeatable), as for tlrun run
  prints "<file>: valid" and exits 0, or every problem as file:line:col and exits 2`;

/** `tlrun validate <file>`: every problem with its location, exit 2 if there are any. */
export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SET_OPTION }, 1, VALIDATE_USAGE);
  const result = validatePipeline(positionals[0]!, { overrides: values.set ?? [] });
  if (result.ok) {
    process.stdout.write(`${positionals[0]}: valid\n`);
    return EXIT.ok;
  }
  for (const p of result.problems) process.stderr.write(formatProblem(p) + "\n");
  process.stderr.write(`${result.problems.length} problem(s) found\n`);
  return EXIT.usage;
}
