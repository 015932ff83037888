import type { Neighbours } from "./neighbours";
import type { OutlierFinding } from "./types";

/**
 * Images far from every other image in feature space, most unusual first: each image's mean
 * cosine distance to its k nearest neighbours, divided by the median of that figure over the set
 * (so the score reads "times the typical distance" whatever the base model's scale), kept when
 * at least `minScore`. A blank scan or a photo of a form among lesions has no close neighbours
 * of any class, so its distance is several times the typical one.
 */
export function outliers(nb: Neighbours, k: number, minScore: number): OutlierFinding[] {
  const n = nb.k > 0 ? nb.index.length / nb.k : 0;
  const use = Math.min(k, nb.k);
  if (use === 0) return [];
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < use; j++) s += 1 - nb.cosine[i * nb.k + j]!;
    dist[i] = s / use;
  }
  const typical = median(dist);
  if (!(typical > 0)) return []; // every image has close copies: nothing stands out
  const out: OutlierFinding[] = [];
  for (let i = 0; i < n; i++) if (dist[i]! / typical >= minScore) out.push({ index: i, score: dist[i]! / typical });
  return out.sort((a, b) => b.score - a.score || a.index - b.index);
}

function median(xs: Float64Array): number {
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
