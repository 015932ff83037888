import type { StageName } from "../plan/compile";
import { audit } from "./audit";
import { dataset } from "./dataset";
import { evaluate } from "./evaluate";
import { extract } from "./extract";
import { fineTune } from "./fine-tune";
import { prepare } from "./prepare";
import { probe } from "./probe";
import { trainHead } from "./train-head";
import type { SourceStage, Stage } from "./types";
import { unfreeze } from "./unfreeze";
import { weights } from "./weights";

type SourceName = "dataset" | "weights";

/** The stages whose output lives outside the cache, by name. */
export const SOURCES: Record<SourceName, SourceStage> = { dataset, weights };

/** Every cached stage's implementation by name. */
export const STAGES: Record<Exclude<StageName, SourceName>, Stage> = {
  prepare,
  probe,
  extract,
  audit,
  "train-head": trainHead,
  unfreeze,
  "fine-tune": fineTune,
  evaluate,
};
