import * as tf from "@tensorflow/tfjs";

/**
 * A small image classifier with the layers the exporters must handle: conv + BatchNorm + ReLU6
 * (folded on export), depthwise conv, pooling, then a flatten (a Reshape spelling out the batch)
 * or global pooling, and a softmax or one-unit sigmoid output. BatchNorm statistics are set away
 * from identity so that folding them matters.
 */
export function tinyClassifier(opts: { classes: number; sigmoid?: boolean; flatten?: boolean; size?: number }): tf.LayersModel {
  const size = opts.size ?? 16;
  {
    const input = tf.input({ shape: [size, size, 3], name: "image" });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "conv1", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: "bn1" });
    x = bn.apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: "relu1" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", name: "dw", depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }).apply(x) as tf.SymbolicTensor;
    x = (opts.flatten ? tf.layers.flatten({ name: "flat" }) : tf.layers.globalAveragePooling2d({ name: "head_pool" })).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 6, activation: "relu", name: "head_dense_0", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
    const units = opts.sigmoid ? 1 : opts.classes;
    const out = tf.layers.dense({ units, activation: opts.sigmoid ? "sigmoid" : "softmax", name: "head_output", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: "tiny" });
    tf.tidy(() => {
      const [gamma, beta, mean, variance] = bn.getWeights();
      bn.setWeights([tf.add(gamma!, 0.3), tf.add(beta!, 0.1), tf.add(mean!, 0.05), tf.add(variance!, 0.5)]);
    });
    return model;
  }
}
