#!/usr/bin/env node
// Screenshot a page (a run's report.html, or a URL such as the MLflow UI) in headless Chromium, the whole page or its top.
// Usage: node scripts/screenshot.mjs <page.html | URL> <out.png> [width] [height|full]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const [page, out, width = "1280", height = "full"] = process.argv.slice(2);
if (!page || !out) {
  console.error("usage: node scripts/screenshot.mjs <page.html | URL> <out.png> [width] [height|full]");
  process.exit(2);
}
const chromium = execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim();
const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  tab.on("pageerror", (e) => errors.push(String(e)));
  await tab.setViewport({ width: Number(width), height: height === "full" ? 900 : Number(height) });
  await tab.goto(/^https?:/.test(page) ? page : pathToFileURL(resolve(page)).href, { waitUntil: /^https?:/.test(page) ? "networkidle0" : "load" });
  await tab.screenshot({ path: out, fullPage: height === "full" });
  console.log(`${out}${errors.length ? `; page errors: ${errors.join(" | ")}` : ""}`);
} finally {
  await browser.close();
}
