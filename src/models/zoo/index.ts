import { homedir } from "node:os";
import { join } from "node:path";
import type { Preprocessing } from "../../config/types";
import type { ModelTopology } from "../topology";
import { densenetTopology } from "./densenet";
import { mobilenetV2Topology } from "./mobilenet-v2";
import { resnetTopology } from "./resnet";
import { vggTopology } from "./vgg";

/** A keras.applications architecture tlrun can build, and where its ImageNet weights live. */
export interface Architecture {
  name: string;
  topology(): ModelTopology;
  preprocessing: Exclude<Preprocessing, "auto">;
  defaultCut: string;
  defaultInput: number;
  minInput: number;
  /** Keras' official notop weights; `hash` is Keras' published `file_hash` (md5 or sha256), if any. */
  imagenet: { file: string; url: string; hash?: string };
}

/** Where Keras publishes the keras.applications weights. */
export const KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications";

/** An official keras.applications weights file: its folder under KERAS_WEIGHTS, name and file_hash. */
function kerasWeights(folder: string, file: string, hash?: string): Architecture["imagenet"] {
  return { file, url: `${KERAS_WEIGHTS}/${folder}/${file}`, ...(hash ? { hash } : {}) };
}

export const ARCHITECTURES: Record<string, Architecture> = {
  vgg16: {
    name: "vgg16", topology: () => vggTopology("vgg16"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
  },
  vgg19: {
    name: "vgg19", topology: () => vggTopology("vgg19"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"),
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
  densenet121: {
    name: "densenet121", topology: () => densenetTopology("densenet121"), preprocessing: "torch", defaultCut: "relu", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("densenet", "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", "30ee3e1110167f948a6b9946edeeb738"),
  },
  attention_vgg16: {
    // VGG16 and its ImageNet weights; the attention module is in the head (see attention-vgg.ts)
    name: "attention_vgg16", topology: () => vggTopology("vgg16"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: kerasWeights("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
  },
};

/** tlrun's cache folder: TLRUN_CACHE, else $XDG_CACHE_HOME/tlrun, else ~/.cache/tlrun. */
export function cacheRoot(): string {
  return process.env.TLRUN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tlrun");
}

/**
 * The URL of an architecture's official weights, or the same file on the mirror named by
 * TLRUN_KERAS_WEIGHTS_MIRROR (same layout below the base URL; Keras' hashes still apply).
 */
export function imagenetUrl(arch: Architecture): string {
  const mirror = process.env.TLRUN_KERAS_WEIGHTS_MIRROR;
  return mirror ? arch.imagenet.url.replace(KERAS_WEIGHTS, mirror.replace(/\/$/, "")) : arch.imagenet.url;
}
