import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError, didYouMean } from "../errors";

/** parseArgs with usage errors that say what was wrong and what would be right. */
type Options = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flag values, typed from the option table. */
export type Values<T extends Options> = {
  [K in keyof T]?: T[K] extends { multiple: true } ? string[] : T[K] extends { type: "boolean" } ? boolean : string;
};

export function parse<T extends Options>(argv: string[], options: T, positionals: number): { values: Values<T>; positionals: string[] } {
  try {
    const out = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (out.positionals.length !== positionals)
      throw new UsageError(`expected ${positionals} argument(s), got ${out.positionals.length}: ${out.positionals.join(" ") || "(none)"}`);
    return { values: out.values as Values<T>, positionals: out.positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const msg = (err as Error).message;
    const m = /Unknown option '(--?[\w-]+)'/.exec(msg);
    if (m) throw new UsageError(`unknown option ${m[1]} ${didYouMean(m[1]!.replace(/^-+/, ""), Object.keys(options))}`.trim());
    throw new UsageError(msg);
  }
}

export const SET_OPTION = { set: { type: "string", multiple: true } } as const;
export const JSON_OPTION = { json: { type: "boolean" } } as const;
