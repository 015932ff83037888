import type { ModelPreprocessing } from "../artifacts";
import type { ModelTopology } from "../topology";
import { densenetTopology } from "./densenet";
import { efficientnetTopology } from "./efficientnet";
import { inceptionResNetV2Topology } from "./inception-resnet-v2";
import { inceptionV3Topology } from "./inception-v3";
import { mobilenetTopology } from "./mobilenet";
import { mobilenetV2Topology } from "./mobilenet-v2";
import { nasnetMobileTopology } from "./nasnet";
import { resnetTopology } from "./resnet";
import { resnetV2Topology } from "./resnet-v2";
import { vggTopology } from "./vgg";
import { xceptionTopology } from "./xception";

/** A keras.applications architecture tlrun can build, and where its ImageNet weights live. */
export interface Architecture {
  name: string;
  topology(): ModelTopology;
  preprocessing: ModelPreprocessing;
  defaultCut: string;
  defaultInput: number;
  minInput: number;
  /**
   * Keras' official notop weights; `hash` is Keras' published `file_hash` (md5 or sha256), if any;
   * `bytes` the file's size as Keras' downloads report it, shown before a download or when offline.
   */
  imagenet: { file: string; url: string; hash?: string; bytes?: number };
}

/** Where Keras publishes the keras.applications weights. */
export const KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications";
/** Where Keras publishes EfficientNet's weights (a different bucket, no folders). */
export const KERAS_WEIGHTS_EFFICIENTNET = "https://storage.googleapis.com/keras-applications";

/** An official keras.applications weights file: its folder under KERAS_WEIGHTS, name and file_hash. */
function kerasWeights(folder: string, file: string, hash?: string): Architecture["imagenet"] {
  return { file, url: `${KERAS_WEIGHTS}/${folder}/${file}`, ...(hash ? { hash } : {}), ...sizeOf(file) };
}

/** Sizes of the notop files, in bytes, as `keras.utils.get_file` prints them when it downloads each. */
const KERAS_FILE_BYTES: Record<string, number> = {
  "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": 58889256,
  "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": 80134624,
  "mobilenet_1_0_224_tf_no_top.h5": 17225924,
  "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": 9406464,
  "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": 94765736,
  "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5": 171446536,
  "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5": 234698864,
  "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5": 94668760,
  "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5": 171317808,
  "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5": 234545216,
  "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5": 29084464,
  "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5": 51877672,
  "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5": 74836368,
  "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": 87910968,
  "xception_weights_tf_dim_ordering_tf_kernels_notop.h5": 83683744,
  "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5": 219055592,
  "NASNet-mobile-no-top.h5": 19993432,
  "efficientnetb0_notop.h5": 16705208,
  "efficientnetb1_notop.h5": 27018416,
  "efficientnetb2_notop.h5": 31790344,
  "efficientnetb3_notop.h5": 43941136,
};

function sizeOf(file: string): { bytes?: number } {
  const bytes = KERAS_FILE_BYTES[file];
  return bytes === undefined ? {} : { bytes };
}

/** NASNetMobile's last layer: Keras leaves its final ReLU unnamed, so a fresh session numbers it. */
const NASNET_MOBILE_OUT = "activation_187";

/** ResNet50V2/101V2/152V2 (Keras' file names drop the underscore: resnet50v2_…). */
function resnetV2(name: "resnet50_v2" | "resnet101_v2" | "resnet152_v2", hash: string): Architecture {
  return {
    name, topology: () => resnetV2Topology(name), preprocessing: "tf", defaultCut: "post_relu", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("resnet", `${name.replace("_", "")}_weights_tf_dim_ordering_tf_kernels_notop.h5`, hash),
  };
}

/** EfficientNet's notop weights (raw 0..255 input: the model normalises itself). */
function efficientnet(variant: "b0" | "b1" | "b2" | "b3", defaultInput: number, hash: string): Architecture {
  const name = `efficientnet_${variant}` as const;
  const file = `efficientnet${variant}_notop.h5`;
  return {
    name, topology: () => efficientnetTopology(name), preprocessing: "none", defaultCut: "top_activation",
    defaultInput, minInput: 32, imagenet: { file, url: `${KERAS_WEIGHTS_EFFICIENTNET}/${file}`, hash, ...sizeOf(file) },
  };
}

const VGG16: Architecture = {
  name: "vgg16", topology: () => vggTopology("vgg16"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
  imagenet: kerasWeights("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
};

export const ARCHITECTURES: Record<string, Architecture> = {
  vgg16: VGG16,
  vgg19: {
    name: "vgg19", topology: () => vggTopology("vgg19"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"),
  },
  mobilenet: {
    name: "mobilenet", topology: () => mobilenetTopology(1.0), preprocessing: "tf", defaultCut: "conv_pw_13_relu", defaultInput: 224, minInput: 32,
    // Keras publishes no file_hash for the MobileNet files: the sha256 is recorded on first download
    imagenet: kerasWeights("mobilenet", "mobilenet_1_0_224_tf_no_top.h5"),
  },
  mobilenet_v2: {
    name: "mobilenet_v2", topology: () => mobilenetV2Topology(1.0), preprocessing: "tf", defaultCut: "out_relu", defaultInput: 224, minInput: 32,
    // Keras publishes no file_hash for the MobileNetV2 files: the sha256 is recorded on first download
    imagenet: kerasWeights("mobilenet_v2", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
  },
  resnet50: {
    name: "resnet50", topology: () => resnetTopology("resnet50"), preprocessing: "caffe", defaultCut: "conv5_block3_out", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626"),
  },
  resnet101: {
    name: "resnet101", topology: () => resnetTopology("resnet101"), preprocessing: "caffe", defaultCut: "conv5_block3_out", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("resnet", "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5", "88cf7a10940856eca736dc7b7e228a21"),
  },
  resnet152: {
    name: "resnet152", topology: () => resnetTopology("resnet152"), preprocessing: "caffe", defaultCut: "conv5_block3_out", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("resnet", "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
  },
  resnet50_v2: resnetV2("resnet50_v2", "fac2f116257151a9d068a22e544a4917"),
  resnet101_v2: resnetV2("resnet101_v2", "c0ed64b8031c3730f411d2eb4eea35b5"),
  resnet152_v2: resnetV2("resnet152_v2", "ed17cf2e0169df9d443503ef94b23b33"),
  densenet121: {
    name: "densenet121", topology: () => densenetTopology("densenet121"), preprocessing: "torch", defaultCut: "relu", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("densenet", "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", "30ee3e1110167f948a6b9946edeeb738"),
  },
  // VGG16 and its ImageNet weights; the attention module is in the head (see attention-vgg.ts)
  attention_vgg16: { ...VGG16, name: "attention_vgg16" },
  densenet169: {
    name: "densenet169", topology: () => densenetTopology("densenet169"), preprocessing: "torch", defaultCut: "relu", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("densenet", "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5", "b8c4d4c20dd625c148057b9ff1c1176b"),
  },
  densenet201: {
    name: "densenet201", topology: () => densenetTopology("densenet201"), preprocessing: "torch", defaultCut: "relu", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("densenet", "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", "c13680b51ded0fb44dff2d8f86ac8bb1"),
  },
  inception_v3: {
    name: "inception_v3", topology: () => inceptionV3Topology(), preprocessing: "tf", defaultCut: "mixed10", defaultInput: 299, minInput: 75,
    imagenet: kerasWeights("inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"),
  },
  xception: {
    name: "xception", topology: () => xceptionTopology(), preprocessing: "tf", defaultCut: "block14_sepconv2_act", defaultInput: 299, minInput: 71,
    imagenet: kerasWeights("xception", "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97"),
  },
  inception_resnet_v2: {
    name: "inception_resnet_v2", topology: () => inceptionResNetV2Topology(), preprocessing: "tf", defaultCut: "conv_7b_ac", defaultInput: 299, minInput: 75,
    imagenet: kerasWeights("inception_resnet_v2", "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "d19885ff4a710c122648d3b5c3b684e4"),
  },
  nasnet_mobile: {
    name: "nasnet_mobile", topology: () => nasnetMobileTopology(), preprocessing: "tf", defaultCut: NASNET_MOBILE_OUT, defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("nasnet", "NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63"),
  },
  efficientnet_b0: efficientnet("b0", 224, "50bc09e76180e00e4465e1a485ddc09d"),
  efficientnet_b1: efficientnet("b1", 240, "74c4e6b3e1f6a1eea24c589628592432"),
  efficientnet_b2: efficientnet("b2", 260, "111f8e2ac8aa800a7a99e3239f7bfb39"),
  efficientnet_b3: efficientnet("b3", 300, "af6d107764bb5b1abb91932881670226"),
};

/** tlrun's cache folder; it lives in src/util so that the bottom layer can use it too. */
export { cacheRoot } from "../../util/cache-root";

/**
 * The URL of an architecture's official weights, or the same file on the mirror named by
 * TLRUN_KERAS_WEIGHTS_MIRROR (same layout below the base URL, EfficientNet's files at its root;
 * Keras' hashes still apply).
 */
export function imagenetUrl(arch: Architecture): string {
  const mirror = process.env.TLRUN_KERAS_WEIGHTS_MIRROR;
  if (!mirror) return arch.imagenet.url;
  const base = arch.imagenet.url.startsWith(`${KERAS_WEIGHTS}/`) ? KERAS_WEIGHTS : KERAS_WEIGHTS_EFFICIENTNET;
  return arch.imagenet.url.replace(base, mirror.replace(/\/$/, ""));
}
