import * as tf from "@tensorflow/tfjs";
import { cutAt, withInputSize } from "../../src/models/topology";
import { ARCHITECTURES } from "../../src/models/zoo";

/** A zoo architecture cut at its default cut, with random weights and BatchNorm statistics far from the identity. */
export async function randomZoo(name: string, size: number): Promise<tf.LayersModel> {
  const arch = ARCHITECTURES[name]!;
  const topology = withInputSize(cutAt(arch.topology(), arch.defaultCut), [size, size]);
  const m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as unknown as tf.io.ModelArtifacts["modelTopology"] }));
  for (const l of m.layers) {
    if (l.getClassName() !== "BatchNormalization") continue;
    l.setWeights(l.getWeights().map((w, i, all) => {
      const variance = i === all.length - 1;
      return tf.tidy(() => (variance ? tf.randomUniform(w.shape, 0.5, 2) : tf.randomUniform(w.shape, -0.5, 1.5)));
    }));
  }
  return m;
}
