/**
 * Scoring an audit against the planted dataset's truth (planted.json): the share of planted
 * cross-split pairs found, the pairs flagged beyond the planted ones, and how many flipped labels
 * sit among the first 2×F label issues (F = the number flipped). The same measures for tlrun's
 * `audit --json` and for cleanlab's Datalab, so one table can hold both.
 */
import type { PlantedTruth } from "../src/data/emoji-planted";

/** What is scored, whoever found it: pairs of paths and a ranking of paths, most doubtful first. */
export interface AuditAnswer {
  pairs: Array<{ paths: [string, string]; similarity?: number; kind?: string }>;
  labelRanking: string[];
}

export interface PairScore {
  planted: number;
  found: number;
  recall: number;
}

export interface AuditScore {
  /** Planted near-duplicate copies (train → val/test) and exact copies across splits together. */
  crossSplit: PairScore;
  near: PairScore;
  exactAcross: PairScore;
  exactWithin: PairScore;
  /** Flagged pairs that are no planted pair, with what was flagged about them. */
  others: AuditAnswer["pairs"];
  flagged: number;
  flipped: number;
  /** Flipped labels among the first 2×F of the ranking. */
  flippedInTop2F: number;
  /** Length of the ranking offered (it may be shorter than 2×F). */
  ranked: number;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}\n${b}` : `${b}\n${a}`);

/** Score `answer` against `truth`. */
export function scoreAudit(truth: PlantedTruth, answer: AuditAnswer): AuditScore {
  const flagged = new Set(answer.pairs.map((p) => pairKey(p.paths[0], p.paths[1])));
  const score = (pairs: Array<[string, string]>): PairScore => {
    const found = pairs.filter(([a, b]) => flagged.has(pairKey(a, b))).length;
    return { planted: pairs.length, found, recall: pairs.length ? found / pairs.length : 1 };
  };
  const near = truth.near.map((n): [string, string] => [n.original, n.copy]);
  const across = truth.exact.filter((e) => e.across).map((e): [string, string] => [e.original, e.copy]);
  const within = truth.exact.filter((e) => !e.across).map((e): [string, string] => [e.original, e.copy]);
  const planted = new Set([...near, ...across, ...within].map(([a, b]) => pairKey(a, b)));
  const flippedPaths = new Set(truth.flipped.map((f) => f.path));
  const top = answer.labelRanking.slice(0, 2 * flippedPaths.size);
  return {
    crossSplit: score([...near, ...across]), near: score(near), exactAcross: score(across), exactWithin: score(within),
    others: answer.pairs.filter((p) => !planted.has(pairKey(p.paths[0], p.paths[1]))),
    flagged: answer.pairs.length,
    flipped: flippedPaths.size,
    flippedInTop2F: top.filter((p) => flippedPaths.has(p)).length,
    ranked: answer.labelRanking.length,
  };
}

/** tlrun's `audit --json` object (issue #22 §3) as an answer. */
export function tlrunAnswer(json: { duplicates: Array<{ paths: [string, string]; similarity: number; kind: string }>; label_issues: Array<{ path: string; score: number }> }): AuditAnswer {
  return { pairs: json.duplicates.map((d) => ({ paths: d.paths, similarity: d.similarity, kind: d.kind })), labelRanking: json.label_issues.map((l) => l.path) };
}

/**
 * One of datalab_audit.py's runs as an answer; `paths` maps its row indexes to paths. Its label
 * issues are the examples it flags (`is_label_issue`), by label score, as tlrun's are the ones
 * its confident joint flags.
 */
export function datalabAnswer(run: { near_duplicate_pairs: Array<[number, number]>; label_rank: Array<{ index: number; flagged: boolean }> }, paths: readonly string[]): AuditAnswer {
  return {
    pairs: run.near_duplicate_pairs.map(([a, b]) => ({ paths: [paths[a]!, paths[b]!] as [string, string] })),
    labelRanking: run.label_rank.filter((r) => r.flagged).map((r) => paths[r.index]!),
  };
}
