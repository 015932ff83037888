import * as tf from "@tensorflow/tfjs";
import { didYouMean, TlrunError, UsageError } from "../errors";
import type { ModelArtifacts } from "../models/artifacts";
import { baseTopology, buildBase, buildSplitBase } from "../models/build";
import { layerNames } from "../models/topology";

/**
 * The base cut in two at the layer Grad-CAM explains: `bottom` maps images to the activations
 * at that layer (and to any other tensor that crosses the split, such as a residual branch),
 * `top` maps those to the base's output. Grad-CAM differentiates the score through `top` only.
 */
export interface CamBase {
  bottom: tf.LayersModel;
  /** Undefined when the explained layer is the cut itself: the base's output is the activation. */
  top?: tf.LayersModel;
  /** Which of `bottom`'s outputs (and `top`'s inputs) is the explained layer. */
  at: number;
  layer: string;
  dispose(): void;
}

/** Copy the weights of `from`'s layers into whichever part holds a layer of that name; others are ignored. */
function copyWeights(parts: tf.LayersModel[], from: tf.LayersModel): void {
  const byName = new Map(parts.flatMap((p) => p.layers.map((l) => [l.name, l] as const)));
  for (const l of from.layers) if (l.weights.length) byName.get(l.name)?.setWeights(l.getWeights());
}

/**
 * Build the base (cut at `cut`, at `size`) split after `layer` ("" = the cut), with the
 * weights of `weightsFrom`'s layers by name when fine-tuning ran: fine-tune's saved `top`, or
 * evaluate's assembled model (its head's layers are ignored). A layer the base lacks is a usage error
 * with the closest names; a layer whose output is not a feature map is one too.
 */
export async function camBase(a: ModelArtifacts, cut: string, size: [number, number], layer: string, weightsFrom?: tf.LayersModel): Promise<CamBase> {
  const names = layerNames(baseTopology(a, cut, size));
  const name = layer || cut;
  const index = names.indexOf(name);
  if (index < 0) {
    const hint = didYouMean(name, names) || `write a layer of the base below the cut '${cut}', such as '${names[Math.floor(names.length * 0.8)]}'`;
    throw new UsageError(`evaluate.explain.layer '${name}' is not a layer of the base (cut at '${cut}', ${names.length} layers); ${hint}`);
  }
  let cam: CamBase;
  if (index === names.length - 1) {
    const bottom = await buildBase(a, cut, size);
    cam = { bottom, at: 0, layer: name, dispose: () => bottom.dispose() };
  } else {
    const split = await buildSplitBase(a, cut, size, index + 1);
    const at = split.frontier.indexOf(name);
    cam = { bottom: split.bottom, top: split.top, at, layer: name, dispose: () => (split.bottom.dispose(), split.top.dispose()) };
    if (at < 0) {
      cam.dispose();
      throw new TlrunError(`evaluate.explain.layer '${name}': no layer above it uses its output, so it does not explain the prediction; pick a layer on the path to the cut '${cut}'`, 2);
    }
  }
  const shape = cam.bottom.outputs[cam.at]!.shape;
  if (shape.length !== 4) {
    cam.dispose();
    throw new UsageError(`evaluate.explain.layer '${name}' outputs shape [${shape.join(", ")}], not a feature map [batch, height, width, channels]; pick a convolutional layer`);
  }
  if (weightsFrom) copyWeights(cam.top ? [cam.bottom, cam.top] : [cam.bottom], weightsFrom);
  return cam;
}
