import type { StageName } from "../dag/compile";
import { evaluate } from "./evaluate";
import { extract } from "./extract";
import { fineTune } from "./fine-tune";
import { prepare } from "./prepare";
import { trainHead } from "./train-head";
import type { Stage } from "./types";
import { unfreeze } from "./unfreeze";

/** Every stage implementation by name. */
export const STAGES: Record<StageName, Stage> = {
  prepare,
  extract,
  "train-head": trainHead,
  unfreeze,
  "fine-tune": fineTune,
  evaluate,
};
