import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "../util/rng";

/**
 * Random draws made inside a training step, in a form a compiled step (training/compiled-step.ts) can
 * replay: each source counts its draws and seeds draw k from (seed, k), so a run repeats
 * exactly, and a compiled step asks the same sources for the same draws, in the same order, to
 * feed them to its graph as inputs.
 */
export class NoiseSource {
  /** Draws made so far. */
  draws = 0;

  constructor(private readonly seed: number) {}

  /** The next draw: uniform in [0, 1), of `shape`. */
  next(shape: number[]): tf.Tensor {
    const t = tf.randomUniform(shape, 0, 1, "float32", deriveSeed(this.seed, `draw-${this.draws++}`));
    onDraw?.(this, shape, t);
    return t;
  }
}

let onDraw: ((source: NoiseSource, shape: number[], t: tf.Tensor) => void) | undefined;

/** Run `f` with `hook` told of every NoiseSource draw `f` makes, in order. */
export function watchingDraws<T>(hook: (source: NoiseSource, shape: number[], t: tf.Tensor) => void, f: () => T): T {
  const outer = onDraw;
  onDraw = hook;
  try {
    return f();
  } finally {
    onDraw = outer;
  }
}

interface DropoutArgs {
  rate: number;
  seed: number;
  noiseShape?: Array<number | null> | null;
  name?: string;
}

/**
 * Dropout with a new mask on every training call that still repeats from run to run. tfjs'
 * Dropout given a seed draws the same mask on every call, so each of a batch's positions would
 * keep the same units for the whole run; without one it draws from Math.random and no run
 * repeats. This one draws from a NoiseSource. The arithmetic is tfjs' (x · floor(u + keep) / keep).
 *
 * It saves as a plain Keras/tfjs `Dropout` (same config: rate, seed, noise shape), so the model
 * folder loads anywhere; tlrun's loadModel (io.ts) reads a seeded Dropout back as this.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "TlrunSeededDropout";
  private readonly rate: number;
  private readonly seed: number;
  private readonly noiseShape: Array<number | null> | null;
  /** This layer's draws; a checkpoint saves its count (training/fit-resume.ts). */
  readonly noise: NoiseSource;

  constructor(args: DropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
    this.noiseShape = args.noiseShape ?? null;
    this.noise = new NoiseSource(args.seed);
    this.supportsMasking = true;
  }

  override getClassName(): string {
    return "Dropout";
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (!kwargs.training || this.rate === 0) return x.clone();
    return tf.tidy(() => {
      const shape = this.noiseShape ? this.noiseShape.map((d, i) => d ?? x.shape[i]!) : x.shape;
      const keep = 1 - this.rate;
      return tf.mul(x, tf.div(tf.floor(tf.add(this.noise.next(shape), keep)), keep));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, noiseShape: this.noiseShape };
  }
}
tf.serialization.registerClass(SeededDropout);

/** The noise sources of `model`'s seeded dropout layers, in layer order: what a resumed fit must restore. */
export function noiseSources(model: tf.LayersModel): NoiseSource[] {
  return model.layers.flatMap((l) => (l instanceof SeededDropout ? [l.noise] : []));
}

/**
 * A saved model topology with every seeded `Dropout` (as saveModel writes SeededDropout) turned
 * back into SeededDropout, in place; Dropouts without a seed are left as they are.
 */
export function readSeededDropout(topology: unknown): void {
  if (Array.isArray(topology)) for (const t of topology) readSeededDropout(t);
  else if (topology && typeof topology === "object") {
    const o = topology as { class_name?: unknown; config?: { seed?: unknown } };
    if (o.class_name === "Dropout" && typeof o.config?.seed === "number") o.class_name = SeededDropout.className;
    for (const v of Object.values(o)) readSeededDropout(v);
  }
}
