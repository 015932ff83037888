import { selectBackend } from "../backend/select";
import { EXIT, UsageError, didYouMean } from "../errors";
import { describeStatus, imagenetStatus } from "../models/weights/status";
import { ARCHITECTURES } from "../models/zoo";
import { layerRefNames, resolveLayerRef } from "../models/freeze-point";
import { zooLayers, type ZooLayer } from "../models/zoo/describe";
import { JSON_OPTION, parse } from "./args";

const OPTIONS = { ...JSON_OPTION, "freeze-at": { type: "string" } } as const;

export const MODELS_USAGE = `tlrun models [NAME] [--freeze-at LAYER|INDEX|BLOCK|FRACTION] [--json]
  without NAME: the architectures, their preprocessing, input sizes, default cut and whether
  their ImageNet weights are here (cached, embedded, or missing with the file a run downloads); with NAME: its layers, blocks and parameter counts
    --freeze-at X   mark which layers would train with freeze.at: X (a layer name, index, block or fraction)
    --json          the same as one JSON object on stdout`;

/** `tlrun models [name] [--freeze-at X] [--json]`: the architectures, or one architecture's layers. */
export async function modelsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, { min: 0, max: 1 }, MODELS_USAGE);
  if (!positionals.length) return listArchitectures(Boolean(values.json));
  const arch = ARCHITECTURES[positionals[0]!];
  if (!arch) throw new UsageError(`unknown architecture '${positionals[0]}'. ${didYouMean(positionals[0]!, Object.keys(ARCHITECTURES))} (see tlrun models)`.trim());
  await selectBackend("auto"); // counting parameters builds the model
  const layers = await zooLayers(arch);
  const at = values["freeze-at"] === undefined ? undefined : freezePoint(layers, values["freeze-at"]);
  const status = (l: ZooLayer): string =>
    !l.params ? "-" : at === undefined || l.index < at ? "frozen" : l.className === "BatchNormalization" ? "frozen (BN)" : "trains";
  if (values.json) {
    const out = layers.map((l) => ({ index: l.index, name: l.name, class: l.className, block: l.block, params: l.params, trainable: at !== undefined && status(l) === "trains" }));
    process.stdout.write(JSON.stringify({ name: arch.name, freeze_at: at ?? null, layers: out }) + "\n");
    return EXIT.ok;
  }
  const total = layers.reduce((n, l) => n + l.params, 0);
  const trains = layers.filter((l) => status(l) === "trains").reduce((n, l) => n + l.params, 0);
  process.stdout.write(`${arch.name}: ${layers.length} layers, ${total.toLocaleString("en")} parameters${at === undefined ? "" : `, ${trains.toLocaleString("en")} train from layer ${at} (${layers[at]?.name})`}\n`);
  process.stdout.write(`${"idx".padStart(4)}  ${"name".padEnd(28)} ${"class".padEnd(20)} ${"block".padEnd(14)} ${"params".padStart(10)}  ${at === undefined ? "" : "status"}\n`);
  for (const l of layers)
    process.stdout.write(`${String(l.index).padStart(4)}  ${l.name.padEnd(28)} ${l.className.padEnd(20)} ${l.block.padEnd(14)} ${l.params.toLocaleString("en").padStart(10)}  ${at === undefined ? "" : status(l)}\n`);
  return EXIT.ok;
}

/** The index `--freeze-at` names, or a usage error with "did you mean" from the layer and block names. */
function freezePoint(layers: ZooLayer[], at: string): number {
  const names = layers.map((l) => l.name);
  const index = resolveLayerRef(names, at);
  if (index !== undefined) return index;
  const hint = didYouMean(at, layerRefNames(names)) || `e.g. ${layers[Math.floor(layers.length * 0.8)]!.block}, ${layers.length - 5} or 0.75`;
  throw new UsageError(`--freeze-at '${at}' is not a layer name, index (0-${layers.length - 1}), block or fraction between 0 and 1 of this model; ${hint}`);
}

function listArchitectures(json: boolean): number {
  const rows = Object.values(ARCHITECTURES).map((a) => {
    const s = imagenetStatus(a);
    return {
      name: a.name, preprocessing: a.preprocessing, default_input: a.defaultInput, min_input: a.minInput, default_cut: a.defaultCut,
      imagenet: { url: s.url, cached: s.status === "cached", status: s.status, offline: s.offline, file: s.file, bytes: s.bytes, path: s.path, hash: a.imagenet.hash ?? null },
      shown: describeStatus(s),
    };
  });
  if (json) {
    process.stdout.write(JSON.stringify({ architectures: rows.map(({ shown: _, ...r }) => r) }) + "\n");
    return EXIT.ok;
  }
  process.stdout.write(`${"name".padEnd(20)} ${"preprocess".padEnd(10)} ${"input".padEnd(9)} ${"default cut".padEnd(22)} imagenet weights\n`);
  for (const r of rows)
    process.stdout.write(`${r.name.padEnd(20)} ${r.preprocessing.padEnd(10)} ${`${r.default_input} (≥${r.min_input})`.padEnd(9)} ${r.default_cut.padEnd(22)} ${r.shown}\n`);
  process.stdout.write("\ntlrun models <name> [--freeze-at LAYER|INDEX|BLOCK|FRACTION] lists its layers\n");
  return EXIT.ok;
}
