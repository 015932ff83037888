import { readCheckpoint, removeCheckpoint, writeCheckpoint, type FitState } from "../training/checkpoint";
import type { FitCheckpointing } from "../training/fit-resume";
import type { StageContext } from "./types";

/** How many checkpoints a stage wrote and the time they took, for its info (the cost per epoch). */
export interface CheckpointCost {
  written: number;
  ms: number;
  /** The epoch training went on after (0: from the start). */
  resumedAfter: number;
}

/**
 * A training stage's end-of-epoch checkpoints at ctx.checkpoint.dir (beside its cache entry,
 * keyed like it: the same config finds it, another never does). A checkpoint found there
 * continues the stage, said on the terminal; a damaged or foreign one is a warning, is removed,
 * and the stage starts from epoch 1. The executor removes the checkpoint once the entry is committed.
 */
export function stageCheckpointing(ctx: StageContext, epochs: number): { checkpoint?: FitCheckpointing; cost: CheckpointCost } {
  const cost: CheckpointCost = { written: 0, ms: 0, resumedAfter: 0 };
  const where = ctx.checkpoint;
  if (!where) return { cost };
  const stage = ctx.node.name;
  const owner = { stage, key: ctx.key };
  const restart = (why: string): void => {
    const line = `${stage}: the checkpoint of an interrupted run is unusable (${why}); training starts again from epoch 1`;
    ctx.warn(line);
    ctx.note(`warning: ${line}`);
    cost.resumedAfter = 0;
  };
  let resume: FitState | undefined;
  let failed = false;
  if (where.resume) {
    const found = readCheckpoint(where.dir, owner);
    if (found.found) {
      resume = found.state;
      cost.resumedAfter = resume.epochsDone;
      const n = resume.epochsDone;
      ctx.note(resume.early.stoppedEarly
        ? `${stage}: early stopping had ended training after epoch ${n} of ${epochs} before the interruption; finishing from a checkpoint`
        : n >= epochs
          ? `${stage}: all ${n} epochs were done before the interruption; finishing from a checkpoint`
          : `${stage}: resuming at epoch ${n + 1} of ${epochs} from a checkpoint`);
    } else if ("damaged" in found) {
      restart(found.damaged);
      removeCheckpoint(where.dir);
    }
  }
  return {
    cost,
    checkpoint: {
      resume,
      // A checkpoint that cannot be written (a full disk) never stops training: an older one
      // stays valid, and without any an interruption costs the stage's epochs, as before.
      save(state) {
        const t0 = performance.now();
        try {
          writeCheckpoint(where.dir, owner, state);
          cost.written++;
        } catch (err) {
          if (!failed) ctx.warn(`${stage}: a checkpoint could not be written (${(err as Error).message}); training goes on, and an interruption resumes from an earlier epoch or epoch 1`);
          failed = true;
        }
        cost.ms += performance.now() - t0;
      },
      refused: (why) => restart(`it does not fit this model: ${why}`),
    },
  };
}

/** The stage info's account of its checkpoints. */
export function checkpointInfo(cost: CheckpointCost): Record<string, number> {
  return { resumed_after_epoch: cost.resumedAfter, checkpoints_written: cost.written, checkpoint_ms: Math.round(cost.ms) };
}
