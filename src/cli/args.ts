import { parseArgs, type ParseArgsConfig } from "node:util";
import { HelpRequested, UsageError, didYouMean } from "../errors";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flag values, typed from the option table. */
export type Values<T extends Options> = {
  [K in keyof T]?: T[K] extends { multiple: true } ? string[] : T[K] extends { type: "boolean" } ? boolean : string;
};

/** How many positional arguments a command takes: exactly n, or a range (max defaults to unbounded). */
export type Arity = number | { min: number; max?: number };

const HELP_FLAG = { help: { type: "boolean", short: "h" } } as const;

/**
 * Every command's flags go through here, so every command answers `--help`/`-h` with its own
 * `usage` (on stdout, exit 0) whatever else is on the line, before the strict pass could refuse
 * an unknown flag or a missing argument. Usage errors say what was wrong and end with the
 * command's usage line.
 */
export function parse<T extends Options>(argv: string[], options: T, positionals: Arity, usage: string): { values: Values<T>; positionals: string[] } {
  if (asksForHelp(argv, options)) throw new HelpRequested(usage);
  const line = `\nusage: ${usage.split("\n")[0]!.replace(/^usage:\s*/, "")}  (--help for more)`;
  let out;
  try {
    out = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message;
    const m = /Unknown option '(--?[\w-]+)'/.exec(msg);
    if (m) throw new UsageError(`unknown option ${m[1]} ${didYouMean(m[1]!.replace(/^-+/, ""), Object.keys(options))}`.trim() + line);
    throw new UsageError(msg + line);
  }
  const n = out.positionals.length;
  const { min, max } = typeof positionals === "number" ? { min: positionals, max: positionals } : { min: positionals.min, max: positionals.max ?? Infinity };
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new UsageError(`expected ${expected} argument(s), got ${n}: ${out.positionals.join(" ") || "(none)"}${line}`);
  }
  return { values: out.values as Values<T>, positionals: out.positionals };
}

/**
 * Whether `--help` or `-h` is among the flags, read the way the strict pass will read them (a
 * string option's value, as in `--set -h`, is not a flag; nothing after `--` is).
 */
function asksForHelp(argv: string[], options: Options): boolean {
  if (Object.hasOwn(options, "help")) throw new Error("parse() adds --help itself; remove it from the option table");
  const { tokens } = parseArgs({ args: argv, options: { ...options, ...HELP_FLAG }, allowPositionals: true, strict: false, tokens: true });
  return tokens.some((t) => t.kind === "option" && t.name === "help");
}

export const SET_OPTION = { set: { type: "string", multiple: true } } as const;
export const JSON_OPTION = { json: { type: "boolean" } } as const;
