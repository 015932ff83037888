import * as tf from "@tensorflow/tfjs";

/** ReLU variants the folded runners apply themselves. */
export type Activation = "linear" | "relu" | "relu6";

interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: Array<{ name: string; type: number; value: unknown }>, inputs: tf.Tensor[]): tf.Tensor;
}

/** The tfjs-node backend when it is the active one (it can run any TensorFlow op by name). */
function nativeBackend(): NativeBackend | undefined {
  const b = tf.backend() as unknown as Partial<NativeBackend>;
  return tf.getBackend() === "tensorflow" && b.binding && typeof b.executeSingleOutput === "function" ? (b as NativeBackend) : undefined;
}

/**
 * relu / relu6 whose gradient is TensorFlow's own ReluGrad / Relu6Grad, one op, on the native
 * backend. tfjs builds these gradients from step (itself isNaN + greater + select + fill),
 * lessEqual, cast and two multiplies: on MobileNetV2's top blocks that was about a quarter of a
 * training step's kernel time. Elsewhere the plain tfjs op (and its gradient) is used.
 */
export function activation(kind: Activation): (x: tf.Tensor) => tf.Tensor {
  if (kind === "linear") return (x) => x;
  const forward = kind === "relu" ? tf.relu : tf.relu6;
  const gradOp = kind === "relu" ? "ReluGrad" : "Relu6Grad";
  const withNativeGrad = tf.customGrad((x, save) => {
    const y = forward(x as tf.Tensor);
    (save as tf.GradSaveFunc)([x as tf.Tensor]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const b = nativeBackend()!;
        return b.executeSingleOutput(gradOp, [{ name: "T", type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }], [dy, saved[0]!]);
      },
    };
  });
  return (x) => (nativeBackend() && x.dtype === "float32" ? withNativeGrad(x) : forward(x));
}
