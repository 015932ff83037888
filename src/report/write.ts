import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../util/atomic";
import { TLRUN_VERSION } from "../util/version";
import { reportHtml, type Figure, type PageInput } from "./html";
import { keptEpochs } from "./html-sections";
import { readRunFolder, type RunFolder } from "./read-run";
import { confusionSvg } from "./svg-confusion";
import { curvesSvg } from "./svg-curves";
import { prSvg, rocSvg } from "./svg-roc";
import { reliabilitySvg } from "./svg-reliability";

export const REPORT_HTML = "report.html";
/** The figures the report draws, by file name under plots/. */
export const REPORT_PLOTS = ["confusion_matrix.png", "training_curves.png", "roc.png", "pr.png", "reliability.png"] as const;

const png = (svg: string): Promise<Buffer> => sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();

function versionOf(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The SVG of each figure this run has the data for. */
function charts(run: RunFolder): Array<[key: keyof PageInput["figures"], file: string, svg: string, alt: string]> {
  const out: ReturnType<typeof charts> = [];
  const r = run.report;
  if (r) {
    out.push(["confusion", "confusion_matrix.png", confusionSvg(r.classes, r.confusion), "Confusion matrix"]);
    if (r.binary || Object.keys(r.roc).length) out.push(["roc", "roc.png", rocSvg(r), "ROC curves"]);
    if (r.binary || Object.keys(r.pr).length) out.push(["pr", "pr.png", prSvg(r), "Precision-recall curves"]);
    if (r.calibration.bins.length) out.push(["reliability", "reliability.png", reliabilitySvg(r), "Reliability diagram"]);
  }
  if (run.epochs.length) out.push(["training", "training_curves.png", curvesSvg(run.epochs, keptEpochs(run)), "Training curves"]);
  return out;
}

/** The grid of every Grad-CAM panel that the evaluate stage also writes. */
const EXPLAIN_GRID = "explain_grid.png";

/** Grad-CAM panels listed in report.json, and any other figure a stage put under plots/ (attention maps). */
function panels(run: RunFolder): Pick<PageInput, "panels" | "others"> {
  const plots = join(run.dir, "plots");
  const listed = (run.report?.explain ?? []).map((e) => ({ ...e, path: [join(run.dir, e.file), join(plots, e.file), join(plots, basename(e.file))].find(existsSync) }));
  const seen = new Set(listed.map((e) => e.path));
  const explain: Figure[] = listed.filter((e) => e.path).map((e) => ({
    png: readFileSync(e.path!), alt: `Grad-CAM of a ${e.truth} image`,
    caption: `${e.kind.replace("_", " ")}: true ${e.truth}, predicted ${e.predicted} (p = ${e.probability.toFixed(3)})`,
  }));
  // the Grad-CAM grid repeats the panels shown one by one (it is for MLflow's artifact view)
  const drawn = (f: string): boolean => (REPORT_PLOTS as readonly string[]).includes(f) || seen.has(join(plots, f)) || (listed.length > 0 && f === EXPLAIN_GRID);
  const others = existsSync(plots) ? readdirSync(plots).filter((f) => f.endsWith(".png") && !drawn(f)).sort() : [];
  return { panels: explain, others: others.map((f) => ({ png: readFileSync(join(plots, f)), alt: f, caption: `${f}, drawn by the evaluate stage` })) };
}

/**
 * Write runs/<id>/plots/*.png and runs/<id>/report.html from what the run folder holds, with no
 * server: every figure inlined so the page is one file to mail or archive. Safe to repeat (the
 * same folder gives the same files); each file is written atomically. Figures a stage already
 * put under plots/ (Grad-CAM panels) are kept and shown.
 */
export async function writeRunReport(runDir: string): Promise<{ html: string; plots: string[] }> {
  const run = readRunFolder(runDir);
  const figures: PageInput["figures"] = {};
  const written: string[] = [];
  for (const [key, file, svg, alt] of charts(run)) {
    const buf = await png(svg);
    const path = join(runDir, "plots", file);
    writeFileAtomic(path, buf);
    written.push(path);
    figures[key] = { png: buf, alt };
  }
  const html = join(runDir, REPORT_HTML);
  writeFileAtomic(html, reportHtml({ run, figures, ...panels(run), versions: { tlrun: TLRUN_VERSION, tfjs: versionOf("@tensorflow/tfjs"), tfjsNode: versionOf("@tensorflow/tfjs-node") } }));
  return { html, plots: written };
}
