import type { ModelArtifacts } from "./artifacts";
import { featureExtractor } from "./graph";
import type { WorkerSettings } from "./inference-types";
import { functionalConfig } from "./topology";

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
 * The base cut at the deepest of `layers` and read at the others on the way: the extract stage's
 * extractor with `depths` (graph.ts), whose rows join every depth's [avg | max] pooled vectors,
 * split here into each depth's average rows, in the order the layers were asked for.
 */
export async function depthFeatures(
  a: ModelArtifacts, layers: readonly string[], size: [number, number], opts: { batch: number; workers?: WorkerSettings },
): Promise<DepthFeatures> {
  const order = new Map(functionalConfig(a.topology).layers.map((l, i) => [l.name, i]));
  const sorted = [...layers].sort((x, y) => (order.get(x) ?? -1) - (order.get(y) ?? -1));
  const fe = await featureExtractor(a, sorted[sorted.length - 1]!, size, { batch: opts.batch, workers: opts.workers, depths: sorted.slice(0, -1) });
  const sortedDims = fe.depthDims ?? [fe.featureShape[fe.featureShape.length - 1]!];
  const width = sortedDims.reduce((s, d) => s + d, 0);
  const offsets = sortedDims.map((_, i) => sortedDims.slice(0, i).reduce((s, d) => s + d, 0));
  const at = layers.map((l) => sorted.indexOf(l));
  return {
    dims: at.map((i) => sortedDims[i]!),
    rowsAsync: async (x, n) => {
      const rows = await fe.rowsAsync(x, n); // n rows of [avg of every depth | max of every depth]
      return at.map((i) => {
        const dim = sortedDims[i]!;
        const out = new Float32Array(n * dim);
        for (let r = 0; r < n; r++) out.set(rows.subarray(r * 2 * width + offsets[i]!, r * 2 * width + offsets[i]! + dim), r * dim);
        return out;
      });
    },
    runner: fe.runner ?? "",
    dispose: () => fe.dispose(),
  };
}
