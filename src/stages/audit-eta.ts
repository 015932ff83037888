import { Eta } from "../util/progress";

/**
 * The audit's time left. The stage takes every image's pixel signatures, then runs the finders,
 * which at 100k images take longer than the signatures did and whose cost depends on how many
 * pictures look alike. So the ETA is the signatures' time left, from their rate, plus the finders'
 * seconds as measured on a sample (`audit/finder-cost.ts`), each finder's counted down while it
 * runs and dropped once it is over. There is none until the sample has been priced: an ETA for
 * the signatures alone was less than half the truth at 100k images.
 */
export class AuditEta {
  private readonly first: Eta;
  private rest?: Eta;
  private finders?: Record<string, number>;
  private readonly over = new Set<string>();
  private current?: { name: string; since: number };
  private done = 0;

  /** `sampled` signatures come first (the sample), then the others. */
  constructor(private readonly n: number, private readonly sampled: number, private readonly clock: () => number = () => performance.now()) {
    this.first = new Eta(sampled, { clock });
  }

  /** `done` signatures of all n are taken. */
  signatures(done: number): void {
    this.done = done;
    if (done <= this.sampled) return this.first.update(done);
    this.rest ??= new Eta(this.n - this.sampled, { clock: this.clock, warmupReports: 0, warmupSeconds: 0 });
    this.rest.update(done - this.sampled);
  }

  /** The finders' seconds on the whole set, by name; an empty record when they are too quick to price. */
  estimated(seconds: Record<string, number>): void {
    this.finders = seconds;
  }

  /** The finder `name` starts (the signatures are all taken). */
  phase(name: string): void {
    if (this.current) this.over.add(this.current.name);
    this.current = { name, since: this.clock() };
  }

  get seconds(): number | undefined {
    if (!this.finders) return undefined;
    const signing = this.current ? 0 : this.signaturesLeft();
    if (signing === undefined) return undefined;
    let left = 0;
    for (const [name, s] of Object.entries(this.finders)) {
      if (this.over.has(name)) continue;
      left += this.current?.name === name ? Math.max(0, s - (this.clock() - this.current.since) / 1000) : s;
    }
    return signing + left;
  }

  /** Signatures per second, for the progress line. */
  get rate(): number | undefined {
    return this.rest?.rate ?? this.first.rate;
  }

  /** The second part's own estimate once it has one; before, at the sample's rate (the two are the same work). */
  private signaturesLeft(): number | undefined {
    if (!this.rest) {
      const left = this.first.seconds;
      return left === undefined ? undefined : left + (this.n - this.sampled) / this.first.rate!;
    }
    const rate = this.first.rate;
    return this.rest.seconds ?? (rate ? (this.n - this.done) / rate : undefined);
  }
}
