/**
 * How right the terminal's ETA was: the run's stderr, each line stamped on arrival, split into
 * stages by the task lines (`❯ extract` … `✔ extract`), and each stage's `ETA <t>` read back
 * against the time the stage really took. What is judged is the end time a person would infer:
 * the time already spent in the stage plus the ETA on screen.
 */

/** One stderr line and when it arrived, in ms since the command started. */
export interface StampedLine {
  t: number;
  text: string;
}

export interface EtaReading {
  /** Fraction of the stage's true duration at which the ETA was read. */
  at: number;
  /** (elapsed + ETA − true duration) / true duration, of the last ETA shown by then; undefined when none was. */
  error?: number;
  /** When that ETA was shown, as a fraction of the stage. */
  shownAt?: number;
}

export interface StageEta {
  stage: string;
  seconds: number;
  /** Number of ETA tokens the stage printed (`ETA ?` excluded). */
  etas: number;
  /** The first ETA the stage showed: when (fraction of the stage) and its error. */
  first?: { shownAt: number; error: number };
  readings: EtaReading[];
}

const START = /^\s*❯\s+(\S+)/;
const END = /^\s*[✔✖↓]\s+([^\s:]+)/;
const ETA = /\bETA (\d+h\d{2}m|\d+m\d{2}s|\d+s)\b/;

/** Seconds in a formatSeconds string (src/util/progress.ts): `45s`, `1m15s`, `1h01m`. */
export function parseEta(text: string): number | undefined {
  const m = ETA.exec(text);
  if (!m) return undefined;
  const t = m[1]!;
  const h = /^(\d+)h(\d{2})m$/.exec(t), mn = /^(\d+)m(\d{2})s$/.exec(t), s = /^(\d+)s$/.exec(t);
  if (h) return Number(h[1]) * 3600 + Number(h[2]) * 60;
  if (mn) return Number(mn[1]) * 60 + Number(mn[2]);
  return Number(s![1]);
}

/** Each stage's duration (from its start line to its end line) and lines in between. */
export function splitStages(lines: StampedLine[]): Array<{ stage: string; start: number; end: number; lines: StampedLine[] }> {
  const out: Array<{ stage: string; start: number; end: number; lines: StampedLine[] }> = [];
  let open: { stage: string; start: number; lines: StampedLine[] } | undefined;
  for (const l of lines) {
    const s = START.exec(l.text), e = END.exec(l.text);
    if (s) open = { stage: s[1]!, start: l.t, lines: [] };
    else if (e && open && e[1] === open.stage) {
      out.push({ ...open, end: l.t });
      open = undefined;
    } else open?.lines.push(l);
  }
  return out;
}

/**
 * A stage whose live line counts down one phase and then another is judged phase by phase:
 * fine-tune's first lines estimate its frozen activations and cannot know how long the training
 * epochs after them will take. The stage marks the end of the first phase with a note line.
 */
const PHASES: Record<string, { first: string; second: string; boundary: RegExp }> = {
  "fine-tune": { first: "fine-tune (activations)", second: "fine-tune (training)", boundary: /^\s*›\s*frozen activations: \d+ in / },
};

/** `splitStages`, with a two-phase stage cut at its boundary line into its two phases. */
export function splitPhases(lines: StampedLine[]): Array<{ stage: string; start: number; end: number; lines: StampedLine[] }> {
  return splitStages(lines).flatMap((s) => {
    const phases = PHASES[s.stage];
    const cut = phases ? s.lines.findIndex((l) => phases.boundary.test(l.text)) : -1;
    if (!phases || cut < 0) return [s];
    const at = s.lines[cut]!.t;
    return [
      { stage: phases.first, start: s.start, end: at, lines: s.lines.slice(0, cut) },
      { stage: phases.second, start: at, end: s.end, lines: s.lines.slice(cut + 1) },
    ];
  });
}

/** The ETA's error in every stage (and phase), read at each fraction of it in `at` (e.g. 0.1, 0.25, 0.5). */
export function etaErrors(lines: StampedLine[], at: number[]): StageEta[] {
  return splitPhases(lines).map(({ stage, start, end, lines: inner }) => {
    const total = end - start;
    const shown = inner.flatMap((l) => {
      const eta = parseEta(l.text);
      return eta === undefined ? [] : [{ t: l.t - start, error: (l.t - start + eta * 1000 - total) / total }];
    });
    const readings = at.map((f) => {
      const last = shown.filter((s) => s.t <= f * total).pop();
      return last ? { at: f, error: last.error, shownAt: last.t / total } : { at: f };
    });
    const first = shown[0] ? { shownAt: shown[0].t / total, error: shown[0].error } : undefined;
    return { stage, seconds: total / 1000, etas: shown.length, first, readings };
  });
}
