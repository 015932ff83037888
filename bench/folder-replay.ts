/**
 * `node dist/bench/folder-replay.js bench/results/<stamp>.json`: the folder section's table
 * again from a results file's raw runs, without running anything. The runs take 20 minutes and
 * more; this lets the analysis (ETA judging, fits) change and be checked on runs already made.
 */
import { readFileSync } from "node:fs";
import { addFolderRows } from "./folder";
import type { FolderRun } from "./folder-run";
import type { Row } from "./context";
import { table } from "./report";
import { samplesFromCsv, type Sample } from "./sampler";

const file = process.argv[2];
if (!file) {
  console.error("usage: node dist/bench/folder-replay.js bench/results/<stamp>.json");
  process.exit(2);
}
type SavedRun = Omit<FolderRun, "samples"> & { samples: string | Sample[] };
const saved = (JSON.parse(readFileSync(file, "utf8")) as { raw?: { folder?: { runs?: SavedRun[] } } }).raw?.folder?.runs;
// samples are CSV text since the first results file, which held them as objects
const runs = saved?.map((r) => ({ ...r, samples: typeof r.samples === "string" ? samplesFromCsv(r.samples) : r.samples }));
if (!runs?.length) {
  console.error(`${file} has no folder runs (raw.folder.runs): run npm run bench -- --only folder first`);
  process.exit(2);
}
const rows: Row[] = [];
addFolderRows({ add: (r: Row) => void rows.push(r) } as Parameters<typeof addFolderRows>[0], runs);
console.log(table(rows));
