import type { LayerJson, ModelTopology } from "../topology";
import { add, autoNames, batchNorm, conv, functional, input, maxPool, relu, separable } from "./layers";

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1e-3, from);

/**
 * keras.applications.Xception(include_top=False) with Keras' layer names (block1_conv1, …,
 * block14_sepconv2_act). The residual 1x1 convs, their BatchNorms and the adds are unnamed in Keras:
 * they get a fresh session's names (conv2d … conv2d_3, batch_normalization …, add … add_11).
 */
export function xceptionTopology(size = 299): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  const auto = autoNames();
  const sep = (name: string, filters: number, from: string): string =>
    push(bn(`${name}_bn`, push(separable(name, filters, { kernel: 3, padding: "same", bias: false }, from))));
  let x = push(conv("block1_conv1", 32, { kernel: 3, strides: 2, bias: false }, "input_1"));
  x = push(relu("block1_conv1_act", push(bn("block1_conv1_bn", x))));
  x = push(conv("block1_conv2", 64, { kernel: 3, bias: false }, x));
  x = push(relu("block1_conv2_act", push(bn("block1_conv2_bn", x))));
  // entry flow: blocks 2-4 halve the size, with a strided 1x1 conv on the shortcut
  for (const [b, filters] of [[2, 128], [3, 256], [4, 728]] as const) {
    const residual = push(bn(auto("batch_normalization"), push(conv(auto("conv2d"), filters, { kernel: 1, strides: 2, padding: "same", bias: false }, x))));
    if (b > 2) x = push(relu(`block${b}_sepconv1_act`, x));
    x = sep(`block${b}_sepconv1`, filters, x);
    x = sep(`block${b}_sepconv2`, filters, push(relu(`block${b}_sepconv2_act`, x)));
    x = push(maxPool(`block${b}_pool`, 3, 2, "same", x));
    x = push(add(auto("add"), [x, residual]));
  }
  // middle flow: blocks 5-12
  for (let b = 5; b <= 12; b++) {
    const residual = x;
    for (let c = 1; c <= 3; c++) x = sep(`block${b}_sepconv${c}`, 728, push(relu(`block${b}_sepconv${c}_act`, x)));
    x = push(add(auto("add"), [x, residual]));
  }
  // exit flow
  const residual = push(bn(auto("batch_normalization"), push(conv(auto("conv2d"), 1024, { kernel: 1, strides: 2, padding: "same", bias: false }, x))));
  x = sep("block13_sepconv1", 728, push(relu("block13_sepconv1_act", x)));
  x = sep("block13_sepconv2", 1024, push(relu("block13_sepconv2_act", x)));
  x = push(maxPool("block13_pool", 3, 2, "same", x));
  x = push(add(auto("add"), [x, residual]));
  x = push(relu("block14_sepconv1_act", sep("block14_sepconv1", 1536, x)));
  push(relu("block14_sepconv2_act", sep("block14_sepconv2", 2048, x)));
  return functional("xception", layers);
}
