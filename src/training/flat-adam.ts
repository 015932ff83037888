import * as tf from "@tensorflow/tfjs";
import type { OptimizerState } from "./checkpoint";
import { fromHost, mismatch, toHost } from "./host-tensor";
import type { TunableOptimizer } from "./tunable-optimizer";

/**
 * Adam over all of one group's variables as a single flat vector. tf.train.adam runs about a
 * dozen ops per variable per step; this one concatenates the gradients, runs the same dozen on
 * the whole vector, splits the step and adds each piece to its variable. The per-element
 * arithmetic is tf.train.adam's, op for op and in the same order, so the weights come out
 * identical (test/training/flat-adam.test.ts); only the number of op dispatches changes, from
 * about 12 per variable to about 4.
 *
 * Every step must bring gradients for the same variables as the first one: the moments are laid
 * out by them. The training loop always does (one optimizer per parameter group).
 */
export class FlatAdam implements TunableOptimizer {
  private layout?: { names: string[]; variables: tf.Variable[]; sizes: number[]; m: tf.Variable; v: tf.Variable };
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  /** −learning rate, as a tensor so that a recorded step (compiled-step.ts) takes it as an input. */
  private readonly negativeRate: tf.Variable;

  constructor(
    learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = tf.backend().epsilon(),
  ) {
    // tf.train.adam's defaults; its epsilon too is the backend's
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
    this.negativeRate = tf.tidy(() => tf.scalar(-learningRate).variable(false));
  }

  setLearningRate(lr: number): void {
    tf.tidy(() => this.negativeRate.assign(tf.scalar(-lr)));
  }

  /**
   * What a step reads besides the variables and their gradients: the moments, the beta powers
   * and the rate; every one but the rate is replaced by each step. Empty before the first step.
   */
  state(): { updated: tf.Variable[]; read: tf.Variable[] } {
    const l = this.layout;
    return l ? { updated: [l.m, l.v, this.accBeta1, this.accBeta2], read: [this.negativeRate] } : { updated: [], read: [] };
  }

  /** The moments and beta powers, with the variables' names that lay the moments out; none before the first step. */
  async saveState(): Promise<OptimizerState> {
    const l = this.layout;
    if (!l) return { names: [], tensors: [] };
    return { names: l.names, tensors: await Promise.all([l.m, l.v, this.accBeta1, this.accBeta2].map(toHost)) };
  }

  /**
   * The moments are laid out by `variables` (the group's, in order), not by the saved names:
   * tfjs names variables by a per-process counter, so another process (a sweep worker's
   * next trial) names the same weights differently.
   */
  async loadState(state: OptimizerState, variables: tf.Variable[]): Promise<void> {
    if (!state.names.length) return;
    if (state.names.length !== variables.length) throw new Error(`adam state for ${state.names.length} variables, the group has ${variables.length}`);
    const layout = (this.layout ??= this.lay(variables.map((v) => v.name)));
    const slots = [layout.m, layout.v, this.accBeta1, this.accBeta2];
    const wrong = mismatch("adam state", state.tensors, slots);
    if (wrong) throw new Error(wrong);
    slots.forEach((v, i) => tf.tidy(() => v.assign(fromHost(state.tensors[i]!))));
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    const names = Object.keys(grads);
    const layout = (this.layout ??= this.lay(names));
    if (names.length !== layout.names.length || names.some((n, i) => n !== layout.names[i])) {
      throw new Error(`FlatAdam: this step's variables (${names.length}) are not those of the first step (${layout.names.length})`);
    }
    const { beta1, beta2 } = this;
    tf.tidy(() => {
      const g = names.length === 1 ? tf.reshape(grads[names[0]!]!, [-1]) : tf.concat(names.map((n) => tf.reshape(grads[n]!, [-1])));
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      const m = tf.add(tf.mul(layout.m, beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(tf.mul(layout.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const mHat = tf.div(m, oneMinusAccBeta1);
      const vHat = tf.div(v, oneMinusAccBeta2);
      layout.m.assign(m);
      layout.v.assign(v);
      const step = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), this.negativeRate);
      const parts = names.length === 1 ? [step] : tf.split(step, layout.sizes);
      layout.variables.forEach((x, i) => x.assign(tf.add(tf.reshape(parts[i]!, x.shape), x)));
      this.accBeta1.assign(tf.mul(this.accBeta1, beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, beta2));
    });
  }

  private lay(names: string[]): NonNullable<FlatAdam["layout"]> {
    const registered = tf.engine().registeredVariables;
    const variables = names.map((n) => {
      const x = registered[n];
      if (!x) throw new Error(`FlatAdam: no variable named ${n}`);
      return x;
    });
    const sizes = variables.map((x) => x.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const zeros = (): tf.Variable => tf.tidy(() => tf.zeros([total]).variable(false));
    return { names, variables, sizes, m: zeros(), v: zeros() };
  }

  dispose(): void {
    this.negativeRate.dispose();
    this.accBeta1.dispose();
    this.accBeta2.dispose();
    this.layout?.m.dispose();
    this.layout?.v.dispose();
  }
}
