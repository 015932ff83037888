import { SOURCE_STAGES } from "../src/plan/compile";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { extraDir } from "../src/util/extras";

/** A temporary folder removed when the test ends. */
export function tempDir(t: TestContext, prefix = "tlrun-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write files given as { relative path: content } under `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

/** One google emoji image (64 px PNG) from the package, as the emoji datasets copy it: by file name, e.g. "1f34e.png". */
export function emojiFile(image: string): string {
  return join(extraDir("emoji-datasource-google"), "img", "google", "64", image);
}

/** Real google emoji, `perClass` images from each of `classes` categories, as class folders. */
export function tinyEmojiDataset(dest: string, perClass = 8, classes = ["flags", "food-drink", "smileys-emotion"]): string {
  const pkg = extraDir("emoji-datasource-google");
  const emoji = require(join(pkg, "emoji.json")) as Array<{ image: string; category: string; has_img_google: boolean; sort_order: number }>;
  const slug = (c: string): string => c.toLowerCase().replace(/[^a-z]+/g, "-").replace(/^-|-$/g, "");
  for (const cls of classes) {
    const picked = emoji
      .filter((e) => e.has_img_google && slug(e.category) === cls)
      .sort((a, b) => a.sort_order - b.sort_order)
      .slice(0, perClass);
    mkdirSync(join(dest, cls), { recursive: true });
    for (const e of picked) cpSync(join(pkg, "img", "google", "64", e.image), join(dest, cls, e.image));
  }
  return dest;
}

/**
 * A two-trial grid sweep in which ASHA prunes the second trial at its first rung: a learning
 * rate of 1e-6 cannot keep up with 0.01 on val_loss.
 */
export const PRUNING_SWEEP = `sweep:
  method: grid
  metric: val_loss
  asha: { enabled: true, min_epochs: 2, reduction_factor: 2 }
  parameters:
    train.head.learning_rate: { values: [0.01, 0.000001] }
    train.head.epochs: { values: [8] }
`;

/** The pipeline YAML used by stage and end-to-end tests: tiny images, few epochs. */
export function tinyPipeline(dataDir: string, runsDir: string, extra = ""): string {
  return `name: tiny
seed: 7
data:
  dir: ${JSON.stringify(dataDir)}
  split: { train: 0.5, val: 0.25, test: 0.25 }
base:
  model: mobilenet_v2
  input_size: [32, 32]
freeze:
  at: block_16_expand
head:
  layers: [{ units: 16, activation: relu, dropout: 0.1 }]
augment:
  rotation: 10
  horizontal_flip: true
  feature_copies: 1
train:
  head: { epochs: 2, batch_size: 8, learning_rate: 0.01 }
  fine_tune: { epochs: 1, batch_size: 8 }
runtime:
  runs_dir: ${JSON.stringify(runsDir)}
${extra}`;
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Whether a stage is a source (dataset, weights): present rather than computed on a first run. */
export function isSource(name: string): boolean {
  return (SOURCE_STAGES as ReadonlySet<string>).has(name);
}
