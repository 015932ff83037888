import { prepareBase } from "../models/source";
import { downloadLine } from "../models/weights/progress";
import type { SourceStage } from "./types";

/**
 * weights: fetch the base's weights once into $TLRUN_CACHE (Keras' published files, a checked
 * URL, a remote tfjs model) and convert them, with progress. Runs only when they are not there.
 */
export const weights: SourceStage = {
  name: "weights",
  async run(ctx) {
    const { base } = ctx.config;
    await prepareBase(base.model, ctx.loaded.baseDir, base.weights, (received, total) => ctx.progress(downloadLine(base.model, received, total)));
  },
};
