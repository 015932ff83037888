import * as tf from "@tensorflow/tfjs";
import type { ModelArtifacts } from "./artifacts";
import { TlrunError } from "../errors";
import "./zoo/custom-layers"; // Keras layers tfjs lacks, used by some zoo architectures
import { cutAt, functionalConfig, splitAt, withInputSize, type ModelTopology } from "./topology";
import { expectedWeights } from "./weights/map";

/** Build a LayersModel from a topology and the artifacts' weights, ignoring weights it lacks. */
export async function fromTopology(topology: ModelTopology, a: ModelArtifacts): Promise<tf.LayersModel> {
  const handler = tf.io.fromMemory({
    modelTopology: topology as unknown as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: a.weightData,
  });
  try {
    return await tf.loadLayersModel(handler, { strict: false });
  } catch (err) {
    throw await explainLoadFailure(topology, a, err as Error);
  }
}

const fmt = (s: number[]): string => `[${s.join(", ")}]`;

/**
 * Why weights do not fit a topology, as a user error naming the model: the first layer whose
 * weight has another shape (weights of another architecture, or a flatten-dense model resized to
 * another input size), else tfjs' own message.
 */
async function explainLoadFailure(topology: ModelTopology, a: ModelArtifacts, err: Error): Promise<TlrunError> {
  const specs = new Map(a.weightSpecs.map((s) => [s.name, s]));
  let expected: Awaited<ReturnType<typeof expectedWeights>> = [];
  try {
    expected = await expectedWeights(topology);
  } catch {
    // the topology itself does not build: tfjs' message below says why
  }
  for (const e of expected) {
    const have = specs.get(e.name);
    if (have && fmt(have.shape) !== fmt(e.shape)) {
      const size = (functionalConfig(topology).layers[0]?.config as { batch_input_shape?: Array<number | null> } | undefined)?.batch_input_shape;
      const at = size ? ` at input ${fmt(size.slice(1, 3) as number[])}` : "";
      return new TlrunError(`${a.origin}: layer '${e.layer}' weight '${e.name}' has shape ${fmt(have.shape)} in the weights, the model${at} expects ${fmt(e.shape)}; are the weights from a different architecture, or trained at another input size (set base.input_size to it, or cut below the layer)?`, 1);
    }
  }
  return new TlrunError(`${a.origin}: cannot build the model from its weights: ${err.message}`, 1);
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
