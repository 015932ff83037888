import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config/types";
import type { OptimizerState } from "./checkpoint";
import type { StepState } from "./compiled-step";
import { makeOptimizer, type TunableOptimizer } from "./optimizer";

/** Variables that start training in the same epoch and learn at the same multiple of the phase's rate. */
export interface ParamGroup {
  variables: tf.Variable[];
  /** Multiplies the phase's learning rate (discriminative fine-tuning); 1 for the head. */
  lrFactor: number;
  /** First epoch (0-based) in which the group trains (gradual unfreezing); 0 from the start. */
  fromEpoch: number;
}

/**
 * One optimizer per parameter group, as fastai and PyTorch param groups do. A per-group rate
 * must scale the optimizer's step, not the gradient: adam divides the gradient by its own running
 * magnitude, so a scaled gradient would change nothing. Each group's optimizer also counts its
 * own steps, so adam's bias correction starts afresh for a group unfrozen in a later epoch.
 */
export class GroupOptimizer {
  private readonly optimizers: TunableOptimizer[];
  private active: number[] = [];

  constructor(private readonly name: OptimizerName, private readonly groups: ParamGroup[]) {
    this.optimizers = groups.map((g) => makeOptimizer(name, g.lrFactor));
  }

  /** Sets each group's rate for `epoch` and which groups train in it. */
  startEpoch(epoch: number, lr: number): void {
    this.active = this.groups.flatMap((g, i) => (g.fromEpoch <= epoch && g.variables.length ? [i] : []));
    this.groups.forEach((g, i) => this.optimizers[i]!.setLearningRate(lr * g.lrFactor));
  }

  /** Variables that train in the current epoch. */
  trainable(): tf.Variable[] {
    return this.active.flatMap((i) => this.groups[i]!.variables);
  }

  /** What a compiled step of the current epoch carries, or why it cannot be compiled. */
  stepState(): StepState | string {
    const state: StepState = { variables: this.trainable(), updated: [], read: [] };
    for (const i of this.active) {
      const s = this.optimizers[i]!.state?.();
      if (!s) return `the ${this.name} optimizer runs eagerly`;
      state.updated.push(...s.updated);
      state.read.push(...s.read);
    }
    return state;
  }

  /** One step: gradients of `f` for the active groups, each applied by its group's optimizer; returns the loss. */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.trainable());
    for (const i of this.active) {
      const mine: tf.NamedTensorMap = {};
      for (const v of this.groups[i]!.variables) if (grads[v.name]) mine[v.name] = grads[v.name]!;
      if (Object.keys(mine).length) this.optimizers[i]!.applyGradients(mine);
    }
    tf.dispose(grads);
    return value;
  }

  /** Each group's optimizer state, in group order. */
  saveState(): Promise<OptimizerState[]> {
    return Promise.all(this.optimizers.map((o) => o.saveState()));
  }

  /** Put back saveState's result on fresh optimizers; throws when it does not fit these groups. */
  async loadState(states: OptimizerState[]): Promise<void> {
    if (states.length !== this.optimizers.length) throw new Error(`${states.length} optimizer states saved, ${this.optimizers.length} groups now`);
    for (const [i, s] of states.entries()) await this.optimizers[i]!.loadState(s, this.groups[i]!.variables);
  }

  dispose(): void {
    for (const o of this.optimizers) o.dispose();
  }
}
