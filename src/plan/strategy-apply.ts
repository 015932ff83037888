import type { FineTunePhaseConfig, LoadedConfig, PipelineConfig } from "../config/types";
import { validateStructure } from "../config/validate";
import type { StrategyChoice, StrategyInput } from "./strategy-table";

/** The keys the strategy sets; one written in the file (or with --set) wins over the choice. */
export const STRATEGY_KEYS = ["base.cut", "head.depths", "freeze.at", "train.fine_tune", "train.fine_tune.epochs", "train.fine_tune.learning_rate", "train.fine_tune.schedule"] as const;

/**
 * The rate's decay when the choice anneals: cosine down to 5% of the rate by the last epoch, as
 * the quickstart's fine-tune does. On the quickstart's emoji (val, seed 42, from block_16 at 1e-4)
 * a constant rate ended anywhere between 0.68 and 0.75 as the epoch count went from 2 to 5, where
 * this decay ended at 0.72-0.73 from 3 to 8 epochs.
 */
const ANNEAL = { type: "cosine", min_factor: 0.05 } as const;

/** The fine-tune phase's schema defaults, for a phase the strategy adds where the file has none. */
function fineTuneDefaults(): FineTunePhaseConfig {
  const { config } = validateStructure({ name: "defaults", data: { dir: "." }, train: { fine_tune: {} } }, () => undefined);
  return config!.train.fine_tune!;
}

/**
 * The config the stages run with: `choice` applied to every strategy key the file leaves out.
 * `written(path)` says whether the file (or a --set) wrote a key. Returns the keys kept as written.
 */
export function applyStrategy(config: PipelineConfig, choice: StrategyChoice, written: (path: string) => boolean): { config: PipelineConfig; kept: string[] } {
  const kept = STRATEGY_KEYS.filter((k) => written(k));
  // decided: the result is the explicit config that reproduces the run, and compiles without the probe
  const out: PipelineConfig = { ...structuredClone(config), strategy: "explicit" };
  if (!written("base.cut")) out.base.cut = choice.cut;
  const ftWritten = written("train.fine_tune");
  // a head written to read several depths trains on the frozen base: the choice adds no fine-tune to it
  const runs = ftWritten ? out.train.fine_tune !== null : choice.fineTune.run && !(written("head.depths") && out.head.depths);
  if (!runs) {
    out.train.fine_tune = null;
    if (choice.headDepths && !written("head.depths")) out.head.depths = choice.headDepths;
    return { config: out, kept };
  }
  // a head on several depths does not fine-tune: a fine-tune written in the file wins, and the head reads the cut alone
  const phase = out.train.fine_tune ?? fineTuneDefaults();
  if (!written("train.fine_tune.epochs")) phase.epochs = choice.fineTune.epochs;
  if (!written("train.fine_tune.learning_rate")) phase.learning_rate = choice.fineTune.learningRate;
  if (choice.fineTune.anneal && !written("train.fine_tune.schedule")) phase.schedule = { ...phase.schedule, ...ANNEAL };
  out.train.fine_tune = phase;
  if (!written("freeze.at")) out.freeze.at = choice.fineTune.from;
  return { config: out, kept };
}

/** `loaded` with `choice` applied: what compile and resolve see under `strategy: auto`. */
export function strategyLoaded(loaded: LoadedConfig, choice: StrategyChoice): { loaded: LoadedConfig; kept: string[] } {
  const { config, kept } = applyStrategy(loaded.config, choice, (path) => loaded.written?.(path) ?? false);
  return { loaded: { ...loaded, config }, kept };
}

const count = (n: number): string => n.toLocaleString("en-US");
const acc = (a: number): string => a.toFixed(2);

/**
 * The one paragraph `tlrun plan` prints, report.json keeps and MLflow tags carry: "1,330 training
 * images (148 per class), top features probe at 0.62 vs 0.48 at block_10: similar, small → head
 * on out_relu, no fine-tuning", then the rule and any key kept as written.
 */
export function describeChoice(input: StrategyInput, choice: StrategyChoice, final: PipelineConfig, kept: readonly string[]): string {
  const { top, bestEarlier } = choice;
  const ft = final.train.fine_tune;
  const action = ft ? `fine-tune from ${final.freeze.at}, ${ft.epochs} epochs at ${ft.learning_rate}${ft.schedule.type === "constant" ? "" : ` (${ft.schedule.type})`}` : "no fine-tuning";
  const head = `head on ${final.base.cut || choice.cut}${final.head.depths === "blocks" ? " and every block below it" : final.head.depths ? ` and ${final.head.depths.join(", ")}` : ""}`;
  const written = kept.length ? ` Written in the file, so kept: ${kept.join(", ")}.` : "";
  return (
    `${count(input.trainImages)} training images (${count(Math.round(choice.perClass))} per class), top features (${top.layer}) probe at ${acc(top.accuracy)} ` +
    `vs ${acc(bestEarlier.accuracy)} at ${bestEarlier.block}: ${choice.similarity}, ${choice.size} → ${head}, ${action}. ` +
    `Why: ${choice.rule}.${written}`
  );
}
