import * as tf from "@tensorflow/tfjs";
import { activation, type Activation } from "./activations";

/**
 * Inference-only execution of a frozen functional model with fewer, cheaper ops per batch. Each
 * Conv2D/DepthwiseConv2D followed by an inference-mode BatchNormalization gets the BatchNorm
 * folded into a copy of its kernel and bias (w' = w·s, b' = (b − mean)·s + beta with
 * s = gamma/√(var + eps)), and a ReLU/ReLU6 right after it runs inside the fused conv. A ReLU6
 * elsewhere becomes one relu6 op instead of relu + clip. Every other layer runs as itself.
 * The model's own weights are never changed: fine-tuning keeps training the originals.
 */
export interface InferenceModel {
  /** The model's outputs for one batch (one tensor per model input), in the model's output order. */
  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor[];
  /** Layers folded away (BatchNorm and activations) and convs that absorbed them. */
  readonly folded: { batchNorms: number; activations: number; convs: number };
  dispose(): void;
}

type Layer = tf.layers.Layer;
interface NodeLike { inboundLayers: Layer[]; nodeIndices: number[]; tensorIndices: number[] }
type Nodes = { inboundNodes: NodeLike[] };
type Mode = "inference" | "training";
type Step = { /** ref of its first output */ name: string; inputs: string[]; run(xs: tf.Tensor[]): tf.Tensor[] };

/** A tensor of the graph: layer, node index (a layer reused in another model has several) and output index. */
const ref = (layer: string, node: number, tensor: number): string => `${layer}:${node}:${tensor}`;

/** The index of the node that puts `l` in `model` (a head layer may also belong to the head model). */
function nodeIndex(model: tf.LayersModel, l: Layer): number {
  const mine = (model as unknown as { containerNodes: Set<string> }).containerNodes;
  const found = (l as unknown as Nodes).inboundNodes.map((_, i) => i).filter((i) => mine.has(`${l.name}_ib-${i}`));
  if (found.length !== 1) throw new Error(`layer ${l.name} is used ${found.length} times in the model`);
  return found[0]!;
}

/** The tensors `l` reads inside `model`. */
function inboundOf(model: tf.LayersModel, l: Layer): string[] {
  const n = (l as unknown as Nodes).inboundNodes[nodeIndex(model, l)]!;
  return n.inboundLayers.map((src, i) => ref(src.name, n.nodeIndices[i]!, n.tensorIndices[i]!));
}

/** The activation a layer applies on its own, if it is a plain relu/relu6 (or nothing else). */
function activationOf(l: Layer): Activation | undefined {
  const c = l.getConfig() as Record<string, unknown>;
  if (l.getClassName() === "ReLU") {
    if (c.maxValue == null) return "relu";
    return c.maxValue === 6 ? "relu6" : undefined;
  }
  if (l.getClassName() === "Activation") return c.activation === "relu" || c.activation === "relu6" ? (c.activation as Activation) : undefined;
  return undefined;
}

function isFoldableBatchNorm(l: Layer): boolean {
  const c = l.getConfig() as { axis?: number | number[] };
  const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  return l.getClassName() === "BatchNormalization" && axis.length === 1 && (axis[0] === -1 || axis[0] === 3);
}

/** BatchNorm as a per-channel scale and shift: y = x·scale + shift. */
function batchNormAffine(bn: Layer): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const c = bn.getConfig() as { scale: boolean; center: boolean; epsilon: number };
  const w = bn.getWeights();
  const gamma = c.scale ? w.shift()! : undefined;
  const beta = c.center ? w.shift()! : undefined;
  const [mean, variance] = w as [tf.Tensor1D, tf.Tensor1D];
  return tf.tidy(() => {
    let scale = tf.rsqrt(tf.add(variance, c.epsilon)) as tf.Tensor1D;
    if (gamma) scale = tf.mul(scale, gamma);
    let shift = tf.neg(tf.mul(mean, scale)) as tf.Tensor1D;
    if (beta) shift = tf.add(shift, beta);
    return { scale, shift };
  });
}

/**
 * A conv with BatchNorm and activation folded in. `inference`: the folded kernel and bias are
 * computed once into new tensors. `training`: they are computed from the conv's variables on
 * every call, so gradients reach the real kernel (the frozen BatchNorm is a per-channel scale
 * and shift, and d(w·s)/dw = s), and the activation's gradient is TensorFlow's one-op version.
 */
function foldedConv(conv: Layer, bn: Layer | undefined, act: Activation, owned: tf.Tensor[], mode: Mode): Step["run"] {
  const c = conv.getConfig() as { strides: number[]; padding: "same" | "valid"; dilationRate: number | number[]; useBias: boolean };
  const depthwise = conv.getClassName() === "DepthwiseConv2D";
  const [kernelVar, biasVar] = conv.weights;
  const affine = bn ? batchNormAffine(bn) : undefined;
  const shape = kernelVar!.shape;
  const perOut = affine && (depthwise ? tf.reshape(affine.scale, [shape[2]!, shape[3]!]) : affine.scale);
  if (affine) owned.push(affine.scale, affine.shift, perOut!);
  const weights = (): { filter: tf.Tensor4D; b?: tf.Tensor } => {
    const kernel = kernelVar!.read() as tf.Tensor4D;
    const bias = biasVar?.read();
    if (!affine) return { filter: kernel, b: bias };
    return { filter: tf.mul(kernel, perOut!), b: bias ? tf.add(tf.mul(bias, affine.scale), affine.shift) : affine.shift };
  };
  const fixed = mode === "inference" ? tf.tidy(() => { const w = weights(); return { filter: tf.clone(w.filter), b: w.b && tf.clone(w.b) }; }) : undefined;
  if (fixed) owned.push(fixed.filter, ...(fixed.b ? [fixed.b] : []));
  const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate, c.dilationRate];
  const opts = { strides: c.strides as [number, number], pad: c.padding, dilations: dil as [number, number] };
  const conv2d = depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
  if (fixed) return ([x]) => [conv2d({ x: x as tf.Tensor4D, ...opts, filter: fixed.filter, bias: fixed.b, activation: act })];
  // Unfused ops here: the fused conv's gradient computes the input gradient even where nothing
  // needs it (the first trained conv, fed by frozen activations); conv2d's is lazy per input.
  const applyAct = activation(act);
  // A 1x1 conv with stride and dilation 1 is a matrix product over the pixels. Run as one, its
  // gradients are two MatMuls; TensorFlow's Conv2DBackpropInput took 4x a forward conv here.
  const pointwise = !depthwise && shape[0] === 1 && shape[1] === 1 && [...opts.strides, ...dil].every((v) => v === 1);
  const plain = depthwise
    ? (x: tf.Tensor4D, f: tf.Tensor4D) => tf.depthwiseConv2d(x, f, opts.strides, opts.pad, "NHWC", opts.dilations)
    : pointwise
      ? (x: tf.Tensor4D, f: tf.Tensor4D) => {
        const [n, h, w, cin] = x.shape;
        const y = tf.matMul(tf.reshape(x, [n * h * w, cin]), tf.reshape(f, [cin, shape[3]!]));
        return tf.reshape(y, [n, h, w, shape[3]!]) as tf.Tensor4D;
      }
      : (x: tf.Tensor4D, f: tf.Tensor4D) => tf.conv2d(x, f, opts.strides, opts.pad, "NHWC", opts.dilations);
  return ([x]) => {
    const { filter, b } = weights();
    const y = plain(x as tf.Tensor4D, filter);
    return [applyAct(b ? tf.add(y, b) : y)];
  };
}

/** How many times each layer output is read, counting the model's outputs as readers. */
function readers(model: tf.LayersModel): Map<string, number> {
  const n = new Map<string, number>();
  for (const l of model.layers) if (l.getClassName() !== "InputLayer") for (const r of inboundOf(model, l)) n.set(r, (n.get(r) ?? 0) + 1);
  for (const o of model.outputs) n.set(ref(o.sourceLayer.name, o.nodeIndex, o.tensorIndex), Infinity);
  return n;
}

function isConv(l: Layer): boolean {
  const c = l.getConfig() as { activation?: string; dataFormat?: string };
  return (l.getClassName() === "Conv2D" || l.getClassName() === "DepthwiseConv2D") && c.activation === "linear" && c.dataFormat !== "channelsFirst";
}

/** The consumer of `name`'s only output when exactly one layer reads it, it is not a model output, and it feeds nothing else. */
function soleReader(model: tf.LayersModel, reads: Map<string, number>, l: Layer): Layer | undefined {
  const out = ref(l.name, nodeIndex(model, l), 0);
  if (reads.get(out) !== 1) return undefined;
  return model.layers.find((r) => r.getClassName() !== "InputLayer" && inboundOf(model, r).includes(out));
}

/** Plan the steps: conv [+ BatchNorm] [+ activation] fused, relu6 as one op, the rest as layers. */
function plan(model: tf.LayersModel, owned: tf.Tensor[], folded: InferenceModel["folded"], mode: Mode): Step[] {
  const reads = readers(model);
  const absorbed = new Map<string, string>(); // layer -> the layer whose step produces its output
  const steps: Step[] = [];
  for (const l of model.layers) {
    if (l.getClassName() === "InputLayer" || absorbed.has(l.name)) continue;
    if (isConv(l)) {
      let last = l;
      const bnLayer = soleReader(model, reads, l);
      const bn = bnLayer && isFoldableBatchNorm(bnLayer) && !(mode === "training" && bnLayer.trainable) ? bnLayer : undefined;
      if (bn) last = bn;
      const actLayer = soleReader(model, reads, last);
      const act = actLayer ? activationOf(actLayer) : undefined;
      if (act && actLayer) last = actLayer;
      if (bn || act) {
        for (const x of [bn, act ? actLayer : undefined]) if (x) absorbed.set(x.name, l.name);
        folded.convs++, (folded.batchNorms += bn ? 1 : 0), (folded.activations += act ? 1 : 0);
        steps.push({ name: ref(last.name, nodeIndex(model, last), 0), inputs: inboundOf(model, l), run: foldedConv(l, bn, act ?? "linear", owned, mode) });
        continue;
      }
    }
    const act = activationOf(l);
    if (act === "relu6" || (act && mode === "training")) {
      const f = activation(act);
      steps.push({ name: ref(l.name, nodeIndex(model, l), 0), inputs: inboundOf(model, l), run: ([x]) => [f(x!)] });
      continue;
    }
    steps.push({ name: ref(l.name, nodeIndex(model, l), 0), inputs: inboundOf(model, l), run: (xs) => [(l.apply(xs.length === 1 ? xs[0]! : xs, { training: false }) as tf.Tensor | tf.Tensor[])].flat() });
  }
  return steps;
}

/** Fold `model` for inference (see InferenceModel). Falls back to `model.predict` for graphs it cannot walk. */
export function foldForInference(model: tf.LayersModel): InferenceModel {
  return fold(model, "inference", (x) => [model.predict(x)].flat());
}

/**
 * The same for a model that trains with its BatchNorm layers frozen (not trainable, inference
 * mode): each frozen BatchNorm is folded into its conv on every call, from the conv's live
 * variables, so training updates the model's own weights exactly as the unfolded model would.
 * Trainable BatchNorm layers are left alone. Call `predict` inside the gradient tape.
 */
export function foldForTraining(model: tf.LayersModel): InferenceModel {
  return fold(model, "training", (x) => [model.apply(x, { training: false })].flat() as tf.Tensor[]);
}

function fold(model: tf.LayersModel, mode: Mode, fallback: InferenceModel["predict"]): InferenceModel {
  const owned: tf.Tensor[] = [];
  const folded = { batchNorms: 0, activations: 0, convs: 0 };
  let steps: Step[];
  try {
    steps = plan(model, owned, folded, mode);
  } catch {
    tf.dispose(owned);
    return { predict: fallback, folded, dispose: () => undefined };
  }
  const inputs = model.inputs.map((t) => ref(t.sourceLayer.name, t.nodeIndex, t.tensorIndex));
  const outputs = model.outputs.map((o) => ref(o.sourceLayer.name, o.nodeIndex, o.tensorIndex));
  const uses = new Map<string, number>();
  for (const s of steps) for (const r of s.inputs) uses.set(r, (uses.get(r) ?? 0) + 1);
  return {
    folded,
    predict(x) {
      const xs = [x].flat();
      if (xs.length !== inputs.length) throw new Error(`expected ${inputs.length} input tensors, got ${xs.length}`);
      const live = new Map<string, tf.Tensor>(inputs.map((r, i) => [r, xs[i]!]));
      const left = new Map(uses);
      for (const s of steps) {
        const ys = tf.tidy(() => s.run(s.inputs.map((r) => live.get(r)!)));
        ys.forEach((y, i) => live.set(s.name.replace(/:0$/, `:${i}`), y));
        for (const r of s.inputs) {
          const n = left.get(r)! - 1;
          left.set(r, n);
          if (n === 0 && !inputs.includes(r) && !outputs.includes(r)) live.get(r)!.dispose(), live.delete(r);
        }
      }
      for (const [r, t] of live) if (!inputs.includes(r) && !outputs.includes(r)) t.dispose(); // outputs nothing reads
      return outputs.map((r) => live.get(r)!);
    },
    dispose: () => tf.dispose(owned),
  };
}
