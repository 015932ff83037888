/**
 * report.html in a real headless Chromium (Debian's package, driven by puppeteer-core): it loads
 * from file:// with no console or page errors, every section is there and visible, every image
 * decodes. Skipped when Chromium is missing, unless TLRUN_REQUIRE_BROWSER is set (CI sets it).
 * TLRUN_REPORT_SCREENSHOT=<file> keeps the screenshot (docs/report.png is made that way).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { SECTIONS } from "../../src/report/html";
import { writeRunReport } from "../../src/report/write";
import { binaryReport, runFolder } from "./fixtures";

function findChromium(): string | undefined {
  for (const name of [process.env.TLRUN_CHROMIUM, "chromium", "chromium-browser", "google-chrome"]) {
    if (!name) continue;
    const r = spawnSync("sh", ["-c", `command -v "${name}"`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

const chromium = findChromium();
const skip = chromium || process.env.TLRUN_REQUIRE_BROWSER ? false : "Chromium is not installed (apt-get install chromium); set TLRUN_REQUIRE_BROWSER=1 to make this a failure";

test("report.html opens in headless Chromium with no errors, shows every section, and every image loads", { skip, timeout: 120_000 }, async (t) => {
  assert.ok(chromium, "TLRUN_REQUIRE_BROWSER is set but no chromium is on PATH (apt-get install chromium)");
  const puppeteer = await import("puppeteer-core");
  const panel = await sharp({ create: { width: 96, height: 96, channels: 3, background: "#884422" } }).png().toBuffer();
  const dir = runFolder(binaryReport({ explain: [{ file: "plots/explain_00.png", truth: "Tuberculosis", predicted: "Normal", probability: 0.91, kind: "false_negative" }] }), { explainPng: panel });
  const shots = mkdtempSync(join(tmpdir(), "tlrun-shot-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  t.after(() => rmSync(shots, { recursive: true, force: true }));
  const { html } = await writeRunReport(dir);

  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(`console: ${m.text()}`)));
  page.on("pageerror", (e) => void errors.push(`page: ${(e as Error).message}`));
  page.on("requestfailed", (r) => void errors.push(`request: ${r.url().slice(0, 80)} ${r.failure()?.errorText}`));
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(pathToFileURL(html).href, { waitUntil: "load" });

  // page-side code as strings: the project compiles without the DOM's types
  const sections = (await page.evaluate(`${JSON.stringify(SECTIONS.map(([id]) => id))}.map((id) => {
    const el = document.getElementById(id);
    if (!el) return { id, present: false, visible: false };
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return { id, present: true, visible: box.height > 0 && box.width > 0 && style.visibility !== "hidden" && style.display !== "none" };
  })`)) as Array<{ id: string; present: boolean; visible: boolean }>;
  for (const s of sections) assert.ok(s.present && s.visible, `section #${s.id} present and visible`);
  const images = (await page.evaluate(`Array.from(document.images).map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 }))`)) as Array<{ alt: string; ok: boolean }>;
  assert.equal(images.length, 6, "five plots and the Grad-CAM panel");
  for (const i of images) assert.ok(i.ok, `image '${i.alt}' loaded`);
  assert.deepEqual(errors, []);

  const shot = join(shots, "report.png");
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000);
  if (process.env.TLRUN_REPORT_SCREENSHOT) copyFileSync(shot, process.env.TLRUN_REPORT_SCREENSHOT);
});
