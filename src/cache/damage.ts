import { TlrunError } from "../errors";

/**
 * A committed cache entry found damaged while a stage was reading it (a block of a streamed
 * feature file that does not match its digest, or a file gone). The executor catches it, moves
 * that entry aside, recomputes it and runs the reading stage once more; only a second failure
 * reaches the user, as a run failure without a stack.
 */
export class CacheDamagedError extends TlrunError {
  constructor(
    readonly stage: string,
    readonly key: string,
    readonly dir: string,
    readonly file: string,
    readonly detail: string,
  ) {
    super(`cache entry ${stage}/${key.slice(0, 12)} is damaged (${file}: ${detail})`);
  }
}
