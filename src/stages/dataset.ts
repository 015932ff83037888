import { SCREENING_RECIPE, buildEmojiDataset } from "../data/emoji";
import { buildGroupedEmojiDataset } from "../data/emoji-grouped";
import type { SourceStage } from "./types";

/**
 * dataset: build the built-in dataset the config names (`data.builtin`) into `data.dir`. It runs
 * only when the folder is missing; a folder of the user's own is simply present.
 */
export const dataset: SourceStage = {
  name: "dataset",
  async run(ctx) {
    const builtin = ctx.config.data.builtin;
    if (!builtin) throw new Error(`internal: the dataset stage ran for ${ctx.dataDir}, which is not a built-in dataset`);
    ctx.progress(`building the ${builtin} dataset into ${ctx.dataDir}`);
    if (builtin === "emoji-grouped") await buildGroupedEmojiDataset(ctx.dataDir);
    else if (builtin === "emoji-screening") await buildEmojiDataset({ ...SCREENING_RECIPE, out: ctx.dataDir });
    else await buildEmojiDataset({ vendor: builtin === "emoji-twitter" ? "twitter" : "google", out: ctx.dataDir });
  },
};
