import { resolve } from "node:path";
import { buildEmojiDataset } from "../data/emoji";
import { EXIT, UsageError } from "../errors";
import { parse } from "./args";

/** `tlrun dataset emoji --vendor google --out DIR`: build a class-folder dataset from an npm package. */
export async function datasetCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { vendor: { type: "string" }, out: { type: "string" } }, 1);
  if (positionals[0] !== "emoji") throw new UsageError(`unknown dataset '${positionals[0]}'; the built-in dataset is 'emoji'`);
  const vendor = values.vendor ?? "google";
  if (vendor !== "google" && vendor !== "twitter") throw new UsageError(`--vendor ${vendor}: write google or twitter`);
  const out = resolve(values.out ?? `data/emoji-${vendor}`);
  const result = await buildEmojiDataset({ vendor, out });
  process.stdout.write(`${result.total} images in ${Object.keys(result.classes).length} classes at ${result.out}\n`);
  for (const [name, n] of Object.entries(result.classes)) process.stdout.write(`  ${name.padEnd(20)} ${n}\n`);
  return EXIT.ok;
}
