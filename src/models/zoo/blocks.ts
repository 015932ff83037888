// Keras' block of each layer, read from the layer names: what freeze.at and `tlrun models` call block5, conv5_block3, block_13.

/**
 * Keras' block names: block5 (VGG, Xception), block_13 (MobileNetV2), block6a (EfficientNet),
 * block35_4 (InceptionResNetV2), conv5_block3 (ResNet), mixed7 / mixed_6a (Inception), pool3 (DenseNet),
 * normal_A_block_7 / reduction_A_block_reduce_8 (NASNet).
 */
const BLOCK = /^(block(?:35|17|8)_\d+(?=_)|block_?\d+[a-z]?(?=_)|conv\d+_block\d+|expanded_conv|mixed_?\d+[a-z]?|dense\d+_block\d+|pool\d+)/;
/** NASNet's cell layers end in the cell's id (normal_add_1_12, adjust_relu_1_stem_2, separable_conv_1_reduction_left1_reduce_4). */
const NASNET_CELL = /^(?:normal|reduction|adjust|separable_conv)_.*?_((?:stem|reduce)_\d+|\d+)$/;
/** MobileNet's conv_pad_N, conv_dw_N, conv_pw_N: its block_N. */
const MOBILENET_BLOCK = /^conv_(?:pad|dw|pw)_(\d+)(?:_|$)/;
/**
 * The names Keras gives unnamed layers (Inception's conv2d_bn, Xception's shortcuts, …), and
 * InceptionV3's inner concatenations (mixed9_1 is inside mixed10).
 */
const AUTO_NAMED = /^((conv2d|batch_normalization|activation|max_pooling2d|average_pooling2d|concatenate|add|custom_scale_layer|zero_padding2d|cropping2d)(_\d+)?|mixed\d+_\d+)$/;

/** Keras' block of a layer, from its name alone, if its name says. */
export function namedBlock(name: string): string | undefined {
  if (AUTO_NAMED.test(name)) return undefined;
  const cell = NASNET_CELL.exec(name);
  if (cell) return `${/^\d+$/.test(cell[1]!) ? "normal" : "reduction"}_A_block_${cell[1]}`; // Keras' name scopes
  const mobilenet = MOBILENET_BLOCK.exec(name);
  if (mobilenet) return `block_${mobilenet[1]}`;
  const m = BLOCK.exec(name);
  return m ? (m[1] === "expanded_conv" ? "block_0" : m[1]) : undefined;
}

/**
 * The block of every layer, in order. Layers named after their block keep it. Before the first
 * block, and up to the first layer whose output branches, layers are "stem". Unnamed layers after
 * that belong to the next named block (Inception names a block by its closing concatenation;
 * in Xception this puts a block's shortcut BatchNorm and add, which follow its pool, in the next
 * block); other layers after the blocks are "top".
 */
export function blocksOf(layers: Array<{ name: string; inbound: string[] }>): string[] {
  const consumers = new Map<string, number>();
  for (const l of layers) for (const from of new Set(l.inbound)) consumers.set(from, (consumers.get(from) ?? 0) + 1);
  const named = layers.map((l) => namedBlock(l.name));
  const firstBlock = named.findIndex((b) => b !== undefined);
  const branch = layers.findIndex((l) => (consumers.get(l.name) ?? 0) > 1);
  const stemEnd = firstBlock < 0 ? layers.length : branch >= 0 ? Math.min(firstBlock - 1, branch) : firstBlock - 1;
  return layers.map((l, i) => {
    if (named[i]) return named[i]!;
    if (i <= stemEnd) return "stem";
    if (AUTO_NAMED.test(l.name)) return named.slice(i + 1).find((b) => b !== undefined) ?? named.slice(0, i).reverse().find((b) => b !== undefined) ?? "top";
    return named.slice(0, i).some((b) => b !== undefined) ? "top" : "stem";
  });
}
