import type { Split } from "../data/scan";

/**
 * The audit's contract (issue #22 §3): what the audit stage hands the finders, and what they
 * find. The finders are pure functions of features and signatures; the stage reads the images and
 * the extract stage's cached features, and writes what is found.
 */

/** What is known of each image from its pixels alone, before any model sees it. */
export interface ImageSignature {
  /** sha256 of the decoded pixels (RGBA, at the file's own size): equal for the same picture saved twice under two names, or re-saved losslessly. */
  pixels: string;
  /** A 64-bit perceptual hash of the pixels, robust to re-encoding and resizing; high and low 32 bits. */
  phash: [number, number];
  /**
   * A 4×4 RGB thumbnail over white, hex (96 characters): tells apart pictures with the same
   * luminance layout in other colours, which the hash cannot (two tricolour flags). Optional: a
   * pair is then judged by the hash alone.
   */
  colour?: string;
  /**
   * A 16×16 RGB thumbnail over white, base64 (1,024 characters): the verification of a candidate
   * pair compares two of them aligned, over small crops (`aligned-match.ts`). Optional: a pair is
   * then not verified.
   */
  thumb?: string;
}

export interface AuditInput {
  /** One row per image, in manifest order. */
  items: ReadonlyArray<{ rel: string; split: Split; label: number }>;
  classes: readonly string[];
  /** Plain (unaugmented) pooled features from the extract stage, row-major, `items.length` × `dim`. */
  features: Float32Array;
  dim: number;
  /** One per item, same order. */
  signatures: readonly ImageSignature[];
  seed: number;
}

/** Two images that show the same picture. `a` and `b` index `AuditInput.items`, with a < b. */
export interface DuplicateFinding {
  a: number;
  b: number;
  kind: "exact" | "near";
  /** 1 for exact; otherwise the score of the signal that found it (1 − hamming/64 for the perceptual hash, cosine for features). */
  similarity: number;
  signal: "pixels" | "phash" | "features";
}

/** An image whose label the out-of-sample probe doubts, ranked most doubtful first. */
export interface LabelIssueFinding {
  index: number;
  label: number;
  suggested: number;
  /** Label quality in [0, 1]: low means likely mislabelled (self-confidence or normalized margin). */
  score: number;
}

/** An image far from every class in feature space, most unusual first. */
export interface OutlierFinding {
  index: number;
  /** Higher means more unusual. */
  score: number;
}

export interface AuditFindings {
  duplicates: DuplicateFinding[];
  labelIssues: LabelIssueFinding[];
  outliers: OutlierFinding[];
  /** Every threshold used, by name, so the report and the JSON can say what was applied. */
  thresholds: Record<string, number>;
  /** Seconds each finder took, by name. */
  seconds: Record<string, number>;
}
