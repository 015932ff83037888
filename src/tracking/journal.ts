import { hostname } from "node:os";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import type { RunSummary } from "../runs/record";
import { modelWeightsSha256 } from "../models/weights-digest";
import { sha256 } from "../util/hash";
import type { DatasetInput, KeyValue, Metric } from "./client";
import { LIMITS, sanitizeKey, truncate } from "./limits";
import { resultKey } from "./held-run";
import { stagesTable, stageTags } from "./stages";
import type { TrackingContext } from "./state";

/**
 * runs/<run-id>/ read back as what the MLflow run should hold. Everything here is a pure function
 * of the folder, with deterministic steps and timestamps, so the live tracker and `tlrun sync`
 * compute the same items and acknowledgements can be matched exactly.
 */
export interface Journal {
  dir: string;
  runId: string;
  summary: RunSummary;
  config: Record<string, unknown>;
  epochs: Array<Record<string, number | string | boolean>>;
  final?: Record<string, number | null>;
  /** Single metric points at a step of their own, such as a sweep's per-trial results. */
  points: Array<{ key: string; value: number; step: number; at: string }>;
}

/**
 * A run still marked running whose process is gone on this host was killed (SIGKILL, power
 * loss): report it as interrupted, so MLflow shows KILLED instead of RUNNING forever.
 */
export function settledSummary(summary: RunSummary): RunSummary {
  if (summary.status !== "running" || !summary.pid || summary.host !== hostname()) return summary;
  try {
    process.kill(summary.pid, 0);
    return summary;
  } catch {
    return { ...summary, status: "interrupted", error: summary.error ?? "the tlrun process ended without recording an outcome (killed)" };
  }
}

export function readJournal(dir: string): Journal {
  const summary = settledSummary(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as RunSummary);
  const config = (parse(readFileSync(join(dir, "config.resolved.yaml"), "utf8")) ?? {}) as Record<string, unknown>;
  const epochs: Journal["epochs"] = [];
  const points: Journal["points"] = [];
  let final: Journal["final"];
  const path = join(dir, "metrics.jsonl");
  const lines = existsSync(path) ? readFileSync(path, "utf8").split("\n") : [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      continue; // a line cut by a crash; the rest is still good
    }
    if (rec.type === "epoch") epochs.push(rec as Journal["epochs"][number]);
    else if (rec.type === "final") final = rec as Journal["final"];
    else if (rec.type === "point") points.push(rec as unknown as Journal["points"][number]);
  }
  return { dir, runId: basename(dir), summary, config, epochs, final, points };
}

/** An item plus the id its acknowledgement is stored under. */
export type Keyed<T> = T & { id: string };

/**
 * The training curves go under `epoch/`: MLflow's run page shows sections of prefixed keys (sorted)
 * before its unprefixed "Model metrics", and the per-class results (`test_recall/<class>`) are
 * such sections, so only a prefix that sorts first makes the page open on loss, accuracy and rate.
 */
const EPOCH_METRICS: Array<[string, string]> = [
  ["loss", "epoch/train_loss"], ["accuracy", "epoch/train_accuracy"], ["val_loss", "epoch/val_loss"], ["val_accuracy", "epoch/val_accuracy"],
  ["learning_rate", "epoch/learning_rate"], ["images_per_second", "images_per_second"], ["seconds", "epoch_seconds"],
];

const startMs = (j: Journal): number => Date.parse(j.summary.started_at);
const endMs = (j: Journal): number => (j.summary.ended_at ? Date.parse(j.summary.ended_at) : startMs(j) + Math.round((j.summary.seconds ?? 0) * 1000));

/** Per-epoch metrics on one global step, then final test metrics once the run ended (stage timings are tags: stages.ts). */
export function metricsOf(j: Journal): Array<Keyed<Metric>> {
  const out: Array<Keyed<Metric>> = [];
  const add = (key: string, value: unknown, step: number, timestamp: number): void => {
    if (typeof value !== "number") return;
    out.push({ id: `${key}@${step}`, key, value, step, timestamp });
  };
  let elapsed = 0;
  let lastStep = 0;
  for (const e of j.epochs) {
    elapsed += typeof e.seconds === "number" ? e.seconds : 0;
    const step = Number(e.global_epoch);
    lastStep = Math.max(lastStep, step);
    const ts = startMs(j) + Math.round(elapsed * 1000);
    for (const [from, to] of EPOCH_METRICS) add(to, e[from], step, ts);
    add("cached_epoch", e.cached ? 1 : 0, step, ts);
  }
  for (const p of j.points) add(p.key, p.value, p.step, Date.parse(p.at));
  if (j.summary.status === "running") return out;
  for (const [k, v] of Object.entries(j.final ?? {})) if (k !== "type") add(k, v, lastStep, endMs(j));
  add("warnings", (j.summary.warnings ?? []).length, 0, endMs(j));
  return out;
}

function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (Array.isArray(value) && value.length && value.every((v) => v && typeof v === "object")) value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  else if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (!entries.length) out.push([prefix, "{}"]);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, typeof value === "string" ? value : JSON.stringify(value ?? null)]);
}

/** Params: the resolved config flattened to dot paths; keys sanitised and values cut to fit, noted. */
export function paramsOf(j: Journal, notes: string[]): Array<Keyed<KeyValue>> {
  const flat: Array<[string, string]> = [];
  flatten(j.config, "", flat);
  return fitted(flat, LIMITS.paramValueLength, "param", notes).map((p) => ({ ...p, id: p.key }));
}

/** Fix keys and values MLflow would refuse, saying what changed; drop later duplicates. */
function fitted(pairs: Array<[string, string]>, valueLimit: number, kind: string, notes: string[]): KeyValue[] {
  const seen = new Set<string>();
  const out: KeyValue[] = [];
  for (const [rawKey, rawValue] of pairs) {
    const key = sanitizeKey(rawKey);
    if (key !== rawKey) notes.push(`${kind} key '${rawKey}' is not allowed by MLflow; logged as '${key}'`);
    if (seen.has(key)) {
      notes.push(`${kind} '${rawKey}' clashes with another key after sanitising; left out`);
      continue;
    }
    seen.add(key);
    const value = truncate(rawValue, valueLimit);
    if (value !== rawValue) notes.push(`${kind} '${key}' is ${rawValue.length} characters; cut to MLflow's limit of ${valueLimit}`);
    out.push({ key, value });
  }
  return out;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)).map((f) => join(d.name, f)) : [d.name])).sort();
}

const fileSha = (path: string): string | undefined => (existsSync(path) ? sha256(readFileSync(path)) : undefined);

/** strategy: auto's decision as tags: the choice to filter runs by, and the paragraph saying why. */
function strategyTags(j: Journal): Array<[string, string | undefined]> {
  const s = j.summary.strategy;
  if (!s) return [];
  const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
  return [
    ["tlrun.strategy", `${str(s.size)}, ${str(s.similarity)}`],
    ["tlrun.strategy.cut", s.head_depths ? `${str(s.cut)} and every block below it` : str(s.cut)],
    ["tlrun.strategy.fine_tune", s.fine_tune ? `from ${str(s.fine_tune_from)}` : "none"],
    ["tlrun.strategy.reason", str(s.reason)],
  ];
}

/** Run tags: MLflow's system tags, provenance hashes and the user's own. */
export function tagsOf(j: Journal, ctx: TrackingContext, notes: string[]): Array<Keyed<KeyValue>> {
  const pairs: Array<[string, string | undefined]> = [
    ["mlflow.source.name", ctx.source_name],
    ["mlflow.source.type", "LOCAL"],
    ["mlflow.user", ctx.user],
    ["mlflow.source.git.commit", ctx.git_commit],
    ["tlrun.run_id", j.runId],
    ["tlrun.version", ctx.tlrun_version],
    ["tlrun.backend", j.summary.backend || undefined],
    ["tlrun.status", j.summary.status],
    ["tlrun.config_sha256", fileSha(join(j.dir, "config.resolved.yaml"))],
    ["tlrun.result_key", resultKey(j)],
    ["tlrun.dataset_manifest_sha256", fileSha(join(j.dir, "manifest.json"))],
    ["tlrun.weights_sha256", j.summary.status === "running" ? undefined : modelWeightsSha256(join(j.dir, "model"))],
    ...stageTags(j),
    ...strategyTags(j),
    ...Object.entries(ctx.target.tags),
  ];
  if (j.summary.error) pairs.push(["tlrun.error", j.summary.error]);
  // what evaluate (and the run) warned about, where the run's page shows it: its description
  const warnings = j.summary.warnings ?? [];
  if (warnings.length) {
    pairs.push(["tlrun.warnings", warnings.join("\n")]);
    pairs.push(["mlflow.note.content", `**${warnings.length} warning${warnings.length === 1 ? "" : "s"}**\n\n${warnings.map((w) => `- ${w}`).join("\n")}`]);
  }
  const present = pairs.filter((p): p is [string, string] => typeof p[1] === "string" && p[1] !== "");
  return fitted(present, LIMITS.tagValueLength, "tag", notes).map((t) => ({ ...t, id: `${t.key}=${sha256(t.value).slice(0, 16)}` }));
}

/** An artifact to upload: a file of the run folder, or content made here (`data`). */
export interface ArtifactItem { id: string; path: string; file: string; data?: Buffer }

/** Files to upload: config, manifest, report (json and html), the stage table, plots, the audit's files and the model, once the run has ended. */
export function artifactsOf(j: Journal): ArtifactItem[] {
  const items: Array<[string, string]> = [["config.resolved.yaml", join(j.dir, "config.resolved.yaml")]];
  if (j.summary.status !== "running") {
    items.push(["manifest.json", join(j.dir, "manifest.json")], ["report.json", join(j.dir, "report.json")], ["summary.json", join(j.dir, "summary.json")], ["report.html", join(j.dir, "report.html")]);
    for (const f of filesUnder(join(j.dir, "plots"))) items.push([`plots/${f}`, join(j.dir, "plots", f)]);
    for (const f of filesUnder(join(j.dir, "sweep"))) items.push([`sweep/${f}`, join(j.dir, "sweep", f)]);
    for (const f of filesUnder(join(j.dir, "audit"))) items.push([`audit/${f}`, join(j.dir, "audit", f)]);
    for (const f of filesUnder(join(j.dir, "model"))) items.push([`model/${f}`, join(j.dir, "model", f)]);
  }
  const out: ArtifactItem[] = items.filter(([, f]) => existsSync(f)).map(([path, file]) => ({ path, file, id: `${path}:${statSync(file).size}:${fileSha(file)!.slice(0, 16)}` }));
  const table = stagesTable(j);
  if (table) out.push({ path: "stages.json", file: "", data: table, id: `stages.json:${table.length}:${sha256(table).slice(0, 16)}` });
  return out;
}

/** The dataset as an MLflow dataset input, from the run's manifest. */
export function datasetOf(j: Journal): DatasetInput | undefined {
  const path = join(j.dir, "manifest.json");
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  const m = JSON.parse(text) as { classes?: string[]; items?: Array<{ split?: string }> };
  const counts: Record<string, number> = {};
  for (const it of m.items ?? []) counts[it.split ?? "all"] = (counts[it.split ?? "all"] ?? 0) + 1;
  const data = (j.config.data ?? {}) as { dir?: string };
  return {
    dataset: {
      name: basename(String(data.dir ?? "dataset")) || "dataset",
      digest: sha256(text).slice(0, 36),
      source_type: "local",
      source: JSON.stringify({ uri: String(data.dir ?? "") }),
      schema: JSON.stringify({ mlflow_colspec: [{ type: "binary", name: "image" }, { type: "string", name: "label" }] }),
      profile: JSON.stringify({ classes: m.classes?.length ?? 0, ...counts }),
    },
    tags: [{ key: "mlflow.data.context", value: "train" }],
  };
}
