import { EXIT, UsageError, didYouMean } from "../errors";
import { importWeights } from "../models/weights/import";
import { JSON_OPTION, parse } from "./args";

export const WEIGHTS_HELP = `tlrun weights import <file.h5> [--model NAME] [--json]
  check a weights file brought by hand (an offline machine) against the hash Keras publishes for
  it (or, where Keras publishes none, its layers against the architecture) and put it in the cache
  where 'weights: imagenet' looks for it; a wrong file is refused and nothing is copied
      --model NAME   the architecture it is for (see tlrun models); otherwise found from its hash
      --json         print the result as one JSON object
      -h, --help     this help
exit codes: 0 imported (or already there), 1 the file is not the expected one, 2 usage`;

const OPTIONS = { ...JSON_OPTION, model: { type: "string" } } as const;

/** `tlrun weights import <file>`: the hand-carried weights file, checked, into the cache. */
export async function weightsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(WEIGHTS_HELP + "\n");
    return sub ? EXIT.ok : EXIT.usage;
  }
  if (sub !== "import") throw new UsageError(`unknown weights command '${sub}'. ${didYouMean(sub, ["import"])}\nusage: ${WEIGHTS_HELP}`);
  const { values, positionals } = parse(rest, OPTIONS, 1, WEIGHTS_HELP);
  const r = await importWeights(positionals[0]!, { model: values.model });
  if (values.json) {
    process.stdout.write(JSON.stringify({ model: r.arch.name, path: r.path, sha256: r.sha256, checked: r.checked, already: r.already }) + "\n");
    return EXIT.ok;
  }
  const how = r.checked === "layers" ? "its layers match (Keras publishes no hash for this file)" : `${r.checked} matches Keras' published hash`;
  process.stdout.write(`${r.already ? "already in the cache" : "imported"}: ${r.arch.name} ImageNet weights at ${r.path}\n  ${how}; sha256 ${r.sha256}\n`);
  return EXIT.ok;
}
