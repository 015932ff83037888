import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildManifest, manifestHash, type Manifest } from "../data/manifest";
import { classFolders } from "../data/scan";
import { scanImages } from "../data/scan-images";
import { checkTable } from "../data/check-table";
import { writeFileAtomic } from "../util/atomic";
import { groupCounts, groupingName, type GroupCounts } from "../data/group-counts";
import { isGrouped, type GroupSettings } from "../data/group-of";
import { Eta } from "../util/progress";
import { checkAgainstDataset } from "../config";
import { ConfigError } from "../errors";
import type { Stage, StageContext } from "./types";

export const MANIFEST_FILE = "manifest.json";

/** Read the manifest a prepare entry holds. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as Manifest;
}

/** "hashing and checking 1200/30000 images, 412.0 files/s, 38.2 MB/s, ETA 1m10s": each rate and the ETA once measured. */
function hashingLine(files: number, total: number, eta: Eta): string {
  const bytes = eta.byteRate === undefined ? [] : [`${(eta.byteRate / 1e6).toFixed(1)} MB/s`];
  return [`hashing and checking ${files}/${total} images`, ...eta.parts("files/s", bytes)].join(", ");
}

/** With a grouped split: groups per split and the leak count, for the run's record (summary.json). */
function groupInfo(manifest: Manifest, split: GroupSettings): GroupCounts | undefined {
  if (!isGrouped(split)) return undefined;
  return groupCounts(manifest.items as Array<Manifest["items"][number] & { group: string }>, manifest.classes, groupingName(split));
}

/** prepare: scan the images, hash them, split them, and report class counts and bad images. */
export const prepare: Stage = {
  name: "prepare",
  needsTf: false,
  async run(ctx) {
    const { data, seed } = ctx.config;
    ctx.note(`scanning ${ctx.dataDir}`);
    // Checked again here: validate could not see a labels table the dataset stage has just written.
    const problems = data.labels ? checkTable(ctx.loaded, ctx.dataDir) : checkAgainstDataset(ctx.loaded, classFolders(ctx.dataDir));
    if (problems.length) throw new ConfigError(problems);
    const scan = scanImages(ctx.loaded, ctx.dataDir);
    const missing = scan.skipped.filter((s) => s.reason.startsWith("not found (")).length;
    if (missing) ctx.warn(`${missing} row${missing === 1 ? "" : "s"} of ${data.labels} name${missing === 1 ? "s" : ""} a file that is not there (skipped, data.on_missing: skip); the run's summary lists them`);
    const total = scan.items.length;
    ctx.note(`hashing and checking ${total} images`);
    // Hashing reads files at a steady pace from its first one (no graph to build, no workers to
    // start: 504-520 files/s from the first 5 s on a 30k folder), so a short warm-up will do.
    const eta = new Eta(total, { warmupSeconds: 0.5, settleSeconds: 2 });
    const manifest = await buildManifest(scan, {
      seed,
      split: data.split,
      maxPixels: data.max_pixels,
      onBadImage: data.on_bad_image,
      onProgress: (files, bytes) => {
        eta.update(files, bytes);
        ctx.progress(hashingLine(files, total, eta));
      },
    });
    for (const b of manifest.bad) ctx.warn(`bad image ${b.rel}: ${b.reason} (skipped)`);
    const groups = groupInfo(manifest, data.split);
    if (groups) ctx.note(`${groups.groups.train} groups in train, ${groups.groups.val} in val, ${groups.groups.test} in test (${groups.by}); test images whose group is also in train: ${groups.leaked_test_images}`);
    writeFileAtomic(join(ctx.out, MANIFEST_FILE), JSON.stringify(manifest));
    const count = (s: "train" | "val" | "test"): number => Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0);
    return {
      digest: manifestHash(manifest),
      info: {
        classes: manifest.classes,
        counts: manifest.counts,
        images: manifest.items.length,
        train: count("train"),
        val: count("val"),
        test: count("test"),
        bad_images: manifest.bad.length,
        skipped_files: manifest.skipped.length,
        bad: manifest.bad.slice(0, 50),
        skipped: manifest.skipped.slice(0, 50),
        ...(groups ? { groups, leaked_test_images: groups.leaked_test_images } : {}),
      },
    };
  },
};
