import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { selectBackend, type BackendName } from "../backend/select";
import { EXIT } from "../errors";
import { TLRUN_VERSION } from "../util/version";
import { compileForward, type WorkerSettings } from "../models/compiled";
import { inferenceEngine, type EngineName } from "../models/engine";
import { poolSettings } from "../models/onnx/workers";
import { compiledStepCheck } from "../training/fit";
import { loadArtifacts } from "../models/source";
import { describeStatus, imagenetStatus } from "../models/weights/status";
import { ARCHITECTURES } from "../models/zoo";
import { EXTRAS, locateExtra } from "../util/extras";
import { JSON_OPTION, parse } from "./args";

function packageVersion(name: string): string | null {
  try {
    return require(`${name}/package.json`).version as string;
  } catch {
    // Packages whose `exports` hide package.json (sharp): walk up from the entry point.
    try {
      for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
        const file = join(dir, "package.json");
        if (!existsSync(file)) continue;
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      }
    } catch {
      // not installed
    }
    return null;
  }
}

/** Probe one backend in a child process, so a crashing native library cannot take doctor down. */
function probe(name: BackendName): { ok: boolean; detail: string } {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const script = `require(${JSON.stringify(require.resolve("../backend/select"))}).selectBackend(${JSON.stringify(name)})
    .then(b => { const tf = require(${JSON.stringify(require.resolve("@tensorflow/tfjs"))}); const s = tf.sum(tf.ones([4])).dataSync()[0]; console.log(JSON.stringify({ok: s === 4, detail: b.tfBackend})); })
    .catch(e => console.log(JSON.stringify({ok: false, detail: e.message})))`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    return { ok: false, detail: (r.stderr || r.error?.message || "no answer").split("\n")[0]!.slice(0, 200) };
  }
}

type Check = { ok: boolean; detail: string };

/**
 * Whether a tiny conv net compiles to ONNX Runtime here (native backend only); with `workers`,
 * also whether that many sessions start on worker threads.
 */
async function onnxCheck(workers?: WorkerSettings): Promise<{ engine: Check; workers?: Check }> {
  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 1) as tf.Tensor4D;
  try {
    const r = await compileForward((x) => [tf.relu6(tf.conv2d(x as tf.Tensor4D, w, 1, "same"))], [2, 8, 8, 3], { perExample: true, workers });
    if (!r.ok) {
      const failed = { ok: false, detail: r.reason };
      return { engine: failed, workers: workers && failed };
    }
    r.forward.dispose();
    const started = r.forward.workers;
    return {
      engine: { ok: true, detail: `${r.forward.label}, matches eager within ${r.forward.checkError.toExponential(1)}` },
      workers: started && (started.ok ? { ok: true, detail: started.detail } : { ok: false, detail: started.reason }),
    };
  } finally {
    w.dispose();
  }
}

/**
 * The inference engine this process chose and why (TLRUN_INFERENCE, the pin checks); when it
 * is onnxruntime, whether a tiny net compiles and matches eager, and whether the inference
 * workers start (TLRUN_INFERENCE_WORKERS).
 */
async function compiledInference(): Promise<{ compiled: { ok: boolean; engine: EngineName | null; reason: string; detail: string }; workers: Check }> {
  let engine;
  try {
    engine = inferenceEngine();
  } catch (err) {
    const why = (err as Error).message.split("\n")[0]!; // a TLRUN_INFERENCE that names no engine: say so here
    return { compiled: { ok: false, engine: null, reason: why, detail: why }, workers: { ok: false, detail: why } };
  }
  if (engine.name === "eager") {
    return { compiled: { ok: false, engine: engine.name, reason: engine.reason, detail: engine.reason }, workers: { ok: false, detail: "not used: frozen passes run eagerly" } };
  }
  let settings: WorkerSettings | string;
  try {
    settings = poolSettings();
  } catch (err) {
    settings = (err as Error).message.split("\n")[0]!;
  }
  const ort = await onnxCheck(typeof settings === "string" ? undefined : settings);
  const workers = typeof settings === "string" ? { ok: false, detail: settings } : ort.workers!;
  return { compiled: { ok: ort.engine.ok, engine: engine.name, reason: engine.reason, detail: ort.engine.detail }, workers };
}

/**
 * Every architecture's ImageNet weights (cached, missing with the file and its size, or embedded),
 * and for the embedded model where its weights come from and their sha256, which doctor reports
 * without installing nsfwjs.
 */
function weightsReport() {
  return Object.values(ARCHITECTURES).map((arch) => {
    const s = imagenetStatus(arch);
    const row = { model: arch.name, ...s, origin: s.status === "cached" ? s.path : s.url, sha256: null as string | null, shown: describeStatus(s) };
    if (s.status !== "embedded" || !s.offline) return row;
    try {
      const a = loadArtifacts(arch.name, process.cwd());
      return { ...row, origin: a.origin, sha256: a.weightsSha256, shown: `${row.shown}: ${a.origin} sha256 ${a.weightsSha256.slice(0, 16)}…` };
    } catch (err) {
      const why = (err as Error).message.split("\n")[0]!;
      return { ...row, offline: false, origin: why, shown: `embedded, but it does not load: ${why}` };
    }
  });
}

export const DOCTOR_USAGE = `tlrun doctor [--json]
  which tfjs backends load here, the versions in use, the inference engine, and for every
  architecture whether its ImageNet weights are cached, embedded (offline) or missing
    --json   the same as one JSON object on stdout`;

/** `tlrun doctor`: which backends load, versions, and where the base weights come from. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...JSON_OPTION }, 0, DOCTOR_USAGE);
  const backends = Object.fromEntries((["native-gpu", "native", "wasm", "cpu"] as BackendName[]).map((b) => [b, probe(b)]));
  const chosen = await selectBackend("auto");
  const extras = Object.values(EXTRAS).map((p) => ({ name: p.name, version: p.version, location: locateExtra(p)?.dir ?? null }));
  const weights = weightsReport();
  const inference = await compiledInference();
  const trainingStep = await compiledStepCheck();
  const report = {
    tlrun: TLRUN_VERSION,
    node: process.version,
    backend: chosen.name,
    tf_backend: tf.getBackend(),
    backends,
    versions: {
      "@tensorflow/tfjs": tf.version.tfjs,
      "@tensorflow/tfjs-node": packageVersion("@tensorflow/tfjs-node"),
      "@tensorflow/tfjs-node-gpu": packageVersion("@tensorflow/tfjs-node-gpu"),
      "@tensorflow/tfjs-backend-wasm": packageVersion("@tensorflow/tfjs-backend-wasm"),
      sharp: packageVersion("sharp"),
      "onnxruntime-node": packageVersion("onnxruntime-node"),
    },
    compiled_inference: inference.compiled,
    inference_workers: inference.workers,
    compiled_training_step: trainingStep,
    threads: { TF_NUM_INTRAOP_THREADS: process.env.TF_NUM_INTRAOP_THREADS ?? null, TF_NUM_INTEROP_THREADS: process.env.TF_NUM_INTEROP_THREADS ?? null },
    weights: weights.map(({ shown: _, ...w }) => w),
    extras,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return EXIT.ok;
  }
  const lines = [`tlrun ${report.tlrun} on node ${report.node}`, `backend in use: ${report.backend}`];
  for (const [name, r] of Object.entries(backends)) lines.push(`  ${r.ok ? "ok  " : "no  "} ${name.padEnd(10)} ${r.detail}`);
  if (chosen.name !== "native") lines.push("  native is not loading: see README 'Native backend' (offline machines: npm run setup:native)");
  const ci = report.compiled_inference;
  lines.push(`inference engine: ${ci.engine ?? "none"} (${ci.reason})`);
  if (ci.engine === "onnxruntime") lines.push(`compiled inference: ${ci.ok ? "ok" : "no"} (${ci.detail})`);
  lines.push(`inference workers: ${report.inference_workers.ok ? "ok" : "no"} (${report.inference_workers.detail})`);
  lines.push(`compiled training step: ${trainingStep.ok ? "ok" : "no"} (${trainingStep.detail})`);
  lines.push("weights:");
  const width = Math.max(...weights.map((w) => w.model.length));
  for (const w of weights) lines.push(`  ${w.model.padEnd(width)}  ${w.shown}`);
  if (weights.some((w) => w.status === "missing")) lines.push(`  a missing file is downloaded on first use; offline, see 'tlrun weights import --help'`);
  lines.push("extras:");
  for (const e of extras) lines.push(`  ${`${e.name}@${e.version}`.padEnd(31)} ${e.location ?? "installed on first use"}`);
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT.ok;
}
