import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Preprocessing } from "../../config/types";
import type { ModelTopology } from "../topology";
import { vggTopology } from "./vgg";

/** A keras.applications architecture tlrun can build, and where its ImageNet weights live. */
export interface Architecture {
  name: string;
  topology(): ModelTopology;
  preprocessing: Exclude<Preprocessing, "auto">;
  defaultCut: string;
  defaultInput: number;
  minInput: number;
  imagenet: { file: string; url: string; md5: string };
}

const KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications";

export const ARCHITECTURES: Record<string, Architecture> = {
  vgg16: {
    name: "vgg16", topology: () => vggTopology("vgg16"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: {
      file: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: `${KERAS_WEIGHTS}/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`,
      md5: "6d6bbae143d832006294945121d1f1fc",
    },
  },
  vgg19: {
    name: "vgg19", topology: () => vggTopology("vgg19"), preprocessing: "caffe", defaultCut: "block5_pool", defaultInput: 224, minInput: 32,
    imagenet: {
      file: "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: `${KERAS_WEIGHTS}/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`,
      md5: "253f8cb515780f3b799900260a226db6",
    },
  },
};

/** tlrun's cache folder: TLRUN_CACHE, else $XDG_CACHE_HOME/tlrun, else ~/.cache/tlrun. */
export function cacheRoot(): string {
  return process.env.TLRUN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tlrun");
}

/** Where an architecture's ImageNet weights are cached, and whether they are there. */
export function imagenetWeights(arch: Architecture): { path: string; offline: boolean } {
  const path = join(cacheRoot(), "weights", arch.imagenet.file);
  return { path, offline: existsSync(path) };
}
