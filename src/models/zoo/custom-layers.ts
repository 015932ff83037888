/**
 * Keras layers the zoo's architectures use that tfjs-layers lacks, registered under Keras' class
 * names so a Keras topology deserialises:
 * - `Normalization` (EfficientNet's stem): (x - mean) / max(sqrt(variance), 1e-7) per channel, with
 *   Keras' three weights mean, variance and count, loaded from the .h5 like any other weights.
 * - `CustomScaleLayer` (InceptionResNetV2's residual blocks): inputs[0] + inputs[1] * scale.
 * Importing this module registers them; everything that deserialises a zoo topology imports it.
 */
import * as tf from "@tensorflow/tfjs";

/** Keras' backend epsilon, the floor Normalization puts under the standard deviation. */
const EPSILON = 1e-7;

interface NormalizationArgs {
  name?: string;
  trainable?: boolean;
  axis?: number | number[] | null;
  invert?: boolean;
  mean?: unknown;
  variance?: unknown;
}

/** keras.layers.Normalization over the last axis, with its statistics as (non-trainable) weights. */
export class Normalization extends tf.layers.Layer {
  static className = "Normalization";
  private readonly invert: boolean;
  private mean?: tf.LayerVariable;
  private variance?: tf.LayerVariable;

  constructor(args: NormalizationArgs) {
    super({ name: args.name, trainable: args.trainable });
    const axis = Array.isArray(args.axis) ? args.axis : [args.axis ?? -1];
    if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3))
      throw new Error(`Normalization '${args.name}': only the channel axis (-1 or 3) is supported, got ${JSON.stringify(args.axis)}`);
    if (args.mean != null || args.variance != null)
      throw new Error(`Normalization '${args.name}': statistics in the config are not supported; they come from the weights`);
    this.invert = args.invert ?? false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1]!;
    this.mean = this.addWeight("mean", [channels], "float32", tf.initializers.zeros(), undefined, false);
    this.variance = this.addWeight("variance", [channels], "float32", tf.initializers.ones(), undefined, false);
    this.addWeight("count", [], "float32", tf.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const std = tf.maximum(tf.sqrt(this.variance!.read()), EPSILON);
      return this.invert ? tf.add(tf.mul(x, std), this.mean!.read()) : tf.div(tf.sub(x, this.mean!.read()), std);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: [3], invert: this.invert, mean: null, variance: null };
  }
}

/** InceptionResNetV2's `CustomScaleLayer`: the residual branch scaled and added to the shortcut. */
export class CustomScaleLayer extends tf.layers.Layer {
  static className = "CustomScaleLayer";
  private readonly scale: number;

  constructor(args: { name?: string; trainable?: boolean; scale: number }) {
    super({ name: args.name, trainable: args.trainable });
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error(`CustomScaleLayer '${this.name}' takes [shortcut, residual]`);
    return tf.tidy(() => tf.add(inputs[0]!, tf.mul(inputs[1]!, this.scale)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

tf.serialization.registerClass(Normalization);
tf.serialization.registerClass(CustomScaleLayer);
