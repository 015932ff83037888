import * as tf from "@tensorflow/tfjs";
import type { NoiseSource } from "../models/seeded-dropout";
import type { FitState, StepsState } from "./checkpoint";
import { fromHost, mismatch, toHost } from "./host-tensor";
import type { GroupOptimizer } from "./param-groups";

/** How fit() keeps a checkpoint: the state to continue from, and where each epoch's state goes. */
export interface FitCheckpointing {
  /** A checkpoint of this stage and key: fit() continues after its last epoch. */
  resume?: FitState;
  /** Called after every epoch (and its early-stopping decision) with all fit() needs to continue. */
  save(state: FitState): Promise<void> | void;
  /** `resume` does not fit this model or its groups: fit() starts from epoch 1 instead. */
  refused(reason: string): void;
}

/** What a checkpoint restores into. */
export interface FitTarget {
  /** Every weight training changes (FitSpec.state). */
  state: tf.Variable[];
  /** The trained variables (restore_best's copies). */
  variables: tf.Variable[];
  noise: NoiseSource[];
  opt: GroupOptimizer;
}

/** The best epoch's weights as kept tensors, from a checkpoint. */
export function keptTensors(saved: FitState["bestWeights"]): tf.Tensor[] | undefined {
  return saved?.map((h) => tf.keep(fromHost(h)));
}

/**
 * Put `s` into `t`: weights, optimizer state, dropout draws. Checks the shapes first; an
 * optimizer that refuses its state part-way leaves `t.opt` unusable, and the caller replaces it.
 * Returns why it could not, with nothing but `t.opt` changed, or undefined when done.
 */
export async function restoreInto(s: FitState, t: FitTarget): Promise<string | undefined> {
  const wrong = mismatch("weights", s.weights, t.state)
    ?? (s.bestWeights ? mismatch("best weights", s.bestWeights, t.variables) : undefined)
    ?? (s.noise.length !== t.noise.length ? `${s.noise.length} dropout layers saved, ${t.noise.length} now` : undefined);
  if (wrong) return wrong;
  try {
    await t.opt.loadState(s.optimizers);
  } catch (err) {
    return (err as Error).message;
  }
  t.state.forEach((v, i) => tf.tidy(() => v.assign(fromHost(s.weights[i]!))));
  t.noise.forEach((n, i) => (n.draws = s.noise[i]!));
  return undefined;
}

/** The host copies of what `t` holds now, for a checkpoint. */
export async function captureFrom(t: FitTarget, bestWeights: tf.Tensor[] | undefined): Promise<Pick<FitState, "weights" | "bestWeights" | "optimizers" | "noise">> {
  return {
    weights: await Promise.all(t.state.map(toHost)),
    bestWeights: bestWeights && (await Promise.all(bestWeights.map(toHost))),
    optimizers: await t.opt.saveState(),
    noise: t.noise.map((n) => n.draws),
  };
}

/**
 * A compiled-step key names the variables it trains (`shapes|name,name`); tfjs names variables
 * by a per-process counter, so a checkpoint keeps their positions in `variables` instead, and a
 * resumed process maps them back to its own names.
 */
export function portableSteps(s: StepsState, variables: tf.Variable[], toLocal = false): StepsState {
  const from = new Map(variables.map((v, i) => (toLocal ? [`#${i}`, v.name] : [v.name, `#${i}`])));
  const key = (k: string): string => {
    const bar = k.lastIndexOf("|");
    return `${k.slice(0, bar)}|${k.slice(bar + 1).split(",").map((n) => from.get(n) ?? n).join(",")}`;
  };
  return { ...s, seen: s.seen.map(key), graphs: Object.fromEntries(Object.entries(s.graphs).map(([k, g]) => [key(k), g])) };
}
