import { didYouMean, type Problem } from "../errors";
import { headDepths } from "../models/head-depths";
import { ATTENTION_ARCHITECTURES } from "../models/zoo/attention-vgg";
import { locateIn } from "./class-rules";
import type { LoadedConfig } from "./types";

/**
 * Checks head.depths against the cut base's layers (`names`, the cut last): each named layer is
 * one of them and `blocks` finds at least one block below the cut. A head on several depths
 * reads features the extract stage pools from a frozen base, so it does not go with fine-tuning
 * (which trains the base through the cut alone) or an attention head (which reads whole maps).
 */
export function checkHeadDepths(loaded: LoadedConfig, names: readonly string[]): Problem[] {
  const { head, base, train } = loaded.config;
  const setting = head.depths;
  if (!setting) return [];
  const at = locateIn(loaded, "head.depths");
  const cut = names[names.length - 1]!;
  const problems: Problem[] = [];
  if (setting === "blocks") {
    if (!headDepths(names, setting).length)
      problems.push({ location: at, message: `head.depths: blocks finds no named block of ${base.model} below the cut '${cut}'`, hint: "list the layers the head should read, shallow to deep (`tlrun models <name>` lists them)" });
  } else
    setting.forEach((d, i) => {
      if (!names.includes(d)) {
        const hint = didYouMean(d, names) || `write layers of the base below the cut '${cut}', such as '${names[Math.floor(names.length / 2)]}'`;
        problems.push({ location: locateIn(loaded, `head.depths.${i}`) ?? at, message: `head.depths names '${d}', which is not a layer of ${base.model} at or below the cut '${cut}'`, hint });
      }
    });
  if (train.fine_tune)
    problems.push({
      location: at,
      message: "head.depths and train.fine_tune do not go together: the head on several depths reads features pooled from the frozen base, and fine-tuning trains the base through the cut alone",
      hint: "remove train.fine_tune (or write fine_tune: null) to train a head on several depths, or remove head.depths to fine-tune",
    });
  if (ATTENTION_ARCHITECTURES.includes(base.model))
    problems.push({ location: at, message: `head.depths does not apply to ${base.model}: its attention head reads the cut's whole feature map`, hint: "remove head.depths" });
  return problems;
}
