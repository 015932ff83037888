import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPORT_HTML, writeRunReport } from "../report/write";
import type { Journal } from "./journal";

/**
 * Make sure an ended run has its report and plots before they are uploaded. Runs end by writing
 * them (executor/run-state.ts); a run folder from an older tlrun, or one whose report failed,
 * gets them here. Returns the files written.
 */
export async function renderPlots(j: Journal): Promise<string[]> {
  if (j.summary.status === "running" || existsSync(join(j.dir, REPORT_HTML))) return [];
  const { html, plots } = await writeRunReport(j.dir);
  return [...plots, html];
}
