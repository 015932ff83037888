/** Exit codes, one per category, as the CLI documents them. */
export const EXIT = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  internal: 70,
  interrupted: 130,
} as const;

/** A position in a user's file, 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem in a user's input: where it is, what was found, what to write instead. */
export interface Problem {
  location?: SourceLocation;
  message: string;
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.location ? `${p.location.file}:${p.location.line}:${p.location.col}: ` : "";
  return `${where}error: ${p.message}${p.hint ? `\n  hint: ${p.hint}` : ""}`;
}

/** Base class for every error that is the user's to fix. The CLI prints it without a stack. */
export class TlrunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.runFailed,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Invalid config or usage: exit code 2, with every problem found. */
export class ConfigError extends TlrunError {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join("\n"), EXIT.usage);
  }
}

export class UsageError extends TlrunError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** `--help` was asked for: the CLI prints `usage` on stdout and exits 0, and the command does nothing else. */
export class HelpRequested extends TlrunError {
  constructor(readonly usage: string) {
    super(usage, EXIT.ok);
  }
}

/** The run was interrupted by a signal; completed stages stay cached. */
export class InterruptedError extends TlrunError {
  /** `resume`: the exact command that continues the run, when the caller knows how it was started. */
  constructor(signal: string, resume?: string) {
    super(
      resume
        ? `interrupted by ${signal}; what finished is kept. To resume, run:\n  ${resume}`
        : `interrupted by ${signal}; what finished is kept, and the same command without --force resumes`,
      EXIT.interrupted,
    );
  }
}

/** Closest candidates to `word` by edit distance, for "did you mean" hints. */
export function suggest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[number, string]> = [];
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= limit || c.toLowerCase().includes(word.toLowerCase())) scored.push([d, c]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, max).map((s) => s[1]);
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s.length ? `did you mean ${s.map((x) => `'${x}'`).join(" or ")}?` : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
