import * as tf from "@tensorflow/tfjs";
import type { ModelArtifacts } from "./artifacts";
import { buildBase } from "./build";
import { inferenceEngine } from "./engine";
import { foldForInference } from "./fold";
import type { WorkerSettings } from "./inference-types";
import { functionalConfig } from "./topology";
import { hashRecord } from "../util/hash";

/** The base read at several depths in one forward pass, each depth's map average-pooled to a row. */
export interface DepthFeatures {
  /** Row width at each depth, in the order the depths were asked for. */
  readonly dims: number[];
  /** One array of `n` rows per depth for `n` images in host memory ([n, h, w, 3] float32), on the workers when given; `x` is copied before this returns. */
  rowsAsync(x: Float32Array, n: number): Promise<Float32Array[]>;
  readonly runner: string;
  dispose(): void;
}

/**
 * The base cut at the deepest of `layers`, with an output at each of them: the shallow depths
 * are computed once on the way to the deepest rather than again for each cut. A layer that is a
 * model output is never fused with the layer after it (fold.ts), so each depth's features are
 * those of the base cut there. Compiled and run like the extract stage's base (engine.ts).
 */
export async function depthFeatures(
  a: ModelArtifacts, layers: readonly string[], size: [number, number], opts: { batch: number; workers?: WorkerSettings },
): Promise<DepthFeatures> {
  const order = new Map(functionalConfig(a.topology).layers.map((l, i) => [l.name, i]));
  const deepest = [...layers].sort((x, y) => (order.get(y) ?? -1) - (order.get(x) ?? -1))[0]!;
  const cut = await buildBase(a, deepest, size);
  const multi = tf.model({ inputs: cut.inputs, outputs: layers.map((l) => cut.getLayer(l).output as tf.SymbolicTensor) });
  const folded = foldForInference(multi);
  const dims = multi.outputs.map((o) => o.shape[o.shape.length - 1] as number);
  const pooled = (x: tf.Tensor | tf.Tensor[]): tf.Tensor[] => folded.predict(x).map((fm) => (fm.rank === 4 ? tf.mean(fm, [1, 2]) : fm));
  const cacheKey = hashRecord({ rows: "avg@depths", weights: a.weightsSha256, layers, size, model: a.topology });
  const fast = await inferenceEngine().forward(
    { predict: pooled, folded: folded.folded, dispose: () => (folded.dispose(), cut.dispose()) },
    [opts.batch, size[0], size[1], 3], { workers: opts.workers, cacheKey },
  );
  return {
    dims,
    rowsAsync: (x, n) => fast.predictHostAsync(x, n, [size[0], size[1], 3]),
    runner: fast.runner,
    dispose: () => fast.dispose(),
  };
}
