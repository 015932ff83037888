import * as tf from "@tensorflow/tfjs";
import type { ModelArtifacts } from "./source";
import "./zoo/custom-layers"; // Keras layers tfjs lacks, used by some zoo architectures
import { cutAt, splitAt, withInputSize, type ModelTopology } from "./topology";

/** Build a LayersModel from a topology and the artifacts' weights, ignoring weights it lacks. */
export async function fromTopology(topology: ModelTopology, a: ModelArtifacts): Promise<tf.LayersModel> {
  const handler = tf.io.fromMemory({
    modelTopology: topology as unknown as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: a.weightData,
  });
  return tf.loadLayersModel(handler, { strict: false });
}

/** The base topology: cut at `cut`, resized to `size`. */
export function baseTopology(a: Pick<ModelArtifacts, "topology">, cut: string, size: [number, number]): ModelTopology {
  return withInputSize(cutAt(a.topology, cut), size);
}

/** The convolutional base, cut at `cut` and sized for `size` inputs. */
export async function buildBase(a: ModelArtifacts, cut: string, size: [number, number]): Promise<tf.LayersModel> {
  return fromTopology(baseTopology(a, cut, size), a);
}

export interface SplitBase {
  /** Frozen layers below the fine-tune point; run in inference mode, outside the gradient tape. */
  bottom: tf.LayersModel;
  /** Layers from the fine-tune point to the cut; these train. */
  top: tf.LayersModel;
  frontier: string[];
}

/** Split the base at layer index `at` (0 means the whole base trains). */
export async function buildSplitBase(
  a: ModelArtifacts,
  cut: string,
  size: [number, number],
  at: number,
): Promise<SplitBase> {
  const topo = baseTopology(a, cut, size);
  const full = await fromTopology(topo, a);
  try {
    const index = Math.max(1, at); // layer 0 is the input layer
    const shapesByName = new Map(full.layers.map((l) => [l.name, l.outputShape as Array<number | null>]));
    const probe = splitAt(topo, index, []);
    const shapes = probe.frontier.map((n) => shapesByName.get(n)!);
    const parts = splitAt(topo, index, shapes);
    const [bottom, top] = await Promise.all([fromTopology(parts.bottom, a), fromTopology(parts.top, a)]);
    return { bottom, top, frontier: parts.frontier };
  } finally {
    full.dispose();
  }
}
