import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { SECTIONS } from "../../src/report/html";
import { confusionSvg } from "../../src/report/svg-confusion";
import { curvesSvg } from "../../src/report/svg-curves";
import { prSvg, rocSvg } from "../../src/report/svg-roc";
import { reliabilitySvg } from "../../src/report/svg-reliability";
import { REPORT_PLOTS, writeRunReport } from "../../src/report/write";
import { binaryReport, multiReport, runFolder } from "./fixtures";

const cleanup = (t: { after(fn: () => void): void }, dir: string): void => t.after(() => rmSync(dir, { recursive: true, force: true }));

/** An SVG is valid when sharp (librsvg) parses and rasterises it to the size it declares. */
async function renders(svg: string): Promise<{ width: number; height: number }> {
  assert.match(svg.slice(0, 120), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
  const meta = await sharp(await sharp(Buffer.from(svg)).png().toBuffer()).metadata();
  const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
  assert.equal(meta.width, Number(w));
  assert.equal(meta.height, Number(h));
  return { width: meta.width!, height: meta.height! };
}

test("every chart builder gives an SVG that sharp renders, for a binary and a 10-class report", async () => {
  for (const r of [binaryReport(), multiReport(10)]) {
    await renders(confusionSvg(r.classes, r.confusion));
    await renders(rocSvg(r));
    await renders(prSvg(r));
    await renders(reliabilitySvg(r));
  }
  await renders(curvesSvg([{ phase: "head", epoch: 1, global_epoch: 1, loss: 1, accuracy: 0.5, val_loss: 1.1, val_accuracy: 0.4 }, { phase: "fine_tune", epoch: 1, global_epoch: 2, loss: 0.5, accuracy: 0.8, val_loss: 0.7, val_accuracy: 0.7 }], [2]));
});

test("the binary ROC marks the operating point and names the AUC with its interval; multi-class has one AUC per class", () => {
  const b = rocSvg(binaryReport());
  assert.match(b, /threshold 0\.2314: sens 0\.83, spec 0\.88/);
  assert.match(b, /AUC 0\.930 \(0\.880–0\.980\)/);
  const m = rocSvg(multiReport(4));
  for (let i = 0; i < 4; i++) assert.match(m, new RegExp(`class_${i}: AUC 0\\.\\d{3}`));
  assert.match(reliabilitySvg(binaryReport()), /ECE 0\.047/);
});

test("writeRunReport writes every plot and a page holding every section; running it again gives the same files", async (t) => {
  const dir = runFolder(binaryReport(), { explainPng: await sharp({ create: { width: 64, height: 64, channels: 3, background: "#c33" } }).png().toBuffer() });
  cleanup(t, dir);
  const { html, plots } = await writeRunReport(dir);
  assert.deepEqual(plots.map((p) => p.split("/").pop()).sort(), [...REPORT_PLOTS].sort());
  for (const p of plots) assert.ok(statSync(p).size > 1000, `${p} is a real image`);
  assert.ok(existsSync(join(dir, "plots", "explain_00.png")), "a stage's panel is kept");
  const page = readFileSync(html, "utf8");
  for (const [id] of SECTIONS) assert.match(page, new RegExp(`<section id="${id}">`), id);
  assert.equal((page.match(/<img src="data:image\/png;base64,/g) ?? []).length, REPORT_PLOTS.length + 1, "five plots and the panel, inlined");
  assert.doesNotMatch(page, /<script|src="(?!data:)|href="http/, "nothing external, no scripts");
  assert.match(page, /0\.872 \(0\.832–0\.912\)/, "metrics with intervals");
  assert.match(page, /at least <b>0\.2314<\/b> — sensitivity ≥ 0\.9 on validation/);
  assert.match(page, /Stopped early: val_loss did not improve for 3 epochs\. Restored the weights of its best epoch, 5/);
  assert.match(page, /<li><span aria-hidden="true">⚠<\/span> the test split holds only 12 images of Tuberculosis/);
  assert.match(page, /⚠<\/span> tfjs-node 4\.21\.0 is installed/);
  const again = await writeRunReport(dir);
  assert.equal(readFileSync(again.html, "utf8"), page);
});

test("a run whose fine-tuning lost to the head says so; a multi-class run says it has no threshold", async (t) => {
  const dir = runFolder(multiReport(3));
  cleanup(t, dir);
  const page = readFileSync((await writeRunReport(dir)).html, "utf8");
  assert.match(page, /Fine-tuning did not beat the head/);
  assert.match(page, /Not a two-class task/);
});

test("class names and config values are escaped: a class named <script> stays text", async (t) => {
  const dir = runFolder(multiReport(3, ["<script>alert(1)</script>", "a&b", `"quoted"`]));
  cleanup(t, dir);
  writeFileSync(join(dir, "config.resolved.yaml"), `name: "<img src=x onerror=alert(1)>"\n`);
  const page = readFileSync((await writeRunReport(dir)).html, "utf8");
  assert.doesNotMatch(page, /<script|<img src=x/);
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(page, /a&amp;b/);
  assert.doesNotMatch(confusionSvg(["<script>"], [[1]]), /<script>/);
});

test("a run that failed before evaluating still gets a page, saying what is missing", async (t) => {
  const dir = runFolder(binaryReport());
  cleanup(t, dir);
  rmSync(join(dir, "report.json"));
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ ...summary, status: "failed", error: "out of memory" }));
  const { html, plots } = await writeRunReport(dir);
  assert.deepEqual(plots.map((p) => p.split("/").pop()), ["training_curves.png"]);
  const page = readFileSync(html, "utf8");
  for (const [id] of SECTIONS) assert.match(page, new RegExp(`<section id="${id}">`), id);
  assert.match(page, /the run failed: out of memory/);
});

test("a report.json from an older tlrun (plain numbers, no curves) still makes a page", async (t) => {
  const dir = runFolder(binaryReport());
  cleanup(t, dir);
  writeFileSync(join(dir, "report.json"), JSON.stringify({ split: "test", source: "images", classes: ["a", "b"], n: 10, accuracy: 0.9, macro_precision: 0.9, macro_recall: 0.9, macro_f1: 0.9, macro_auc: null, log_loss: 0.3, per_class: { a: { precision: 1, recall: 0.8, f1: 0.9, support: 5, auc: null }, b: { precision: 0.8, recall: 1, f1: 0.9, support: 5, auc: null } }, confusion: [[4, 1], [0, 5]] }));
  const { html, plots } = await writeRunReport(dir);
  assert.deepEqual(plots.map((p) => p.split("/").pop()).sort(), ["confusion_matrix.png", "training_curves.png"]);
  const page = readFileSync(html, "utf8");
  assert.match(page, /<td>0\.900<\/td>/);
  assert.match(page, /no ROC curves \(written by an older tlrun\)/);
});

test("a figure a stage drew that report.json does not list (attention maps) is shown too", async (t) => {
  const png = await sharp({ create: { width: 40, height: 20, channels: 3, background: "#123" } }).png().toBuffer();
  const dir = runFolder(binaryReport(), { explainPng: png });
  cleanup(t, dir);
  writeFileSync(join(dir, "plots", "attention_maps.png"), png);
  const page = readFileSync((await writeRunReport(dir)).html, "utf8");
  assert.match(page, /No Grad-CAM panels/);
  assert.match(page, /attention_maps\.png, drawn by the evaluate stage/);
  assert.match(page, /explain_00\.png, drawn by the evaluate stage/, "an unlisted panel still shows");
});
