import * as tf from "@tensorflow/tfjs";
import { tensorflowSession } from "../models/native-graph";
import { checkPrivateApi, installed, type Probe, type Refusal } from "../models/pins";
import { watchingDraws, type NoiseSource } from "../models/seeded-dropout";
import type { StepsState } from "./checkpoint";
import { hostRelativeError, nativeBackend, recordOps, TRACE_HOOK, Unsupported } from "../models/trace";

/**
 * One training step as the eager loop runs it: updates the weights, returns the loss and the
 * correct count. `w`: the batch's per-example loss weights, when it has them.
 */
export type EagerStep = (x: tf.Tensor | tf.Tensor[], y: tf.Tensor, w?: tf.Tensor) => [tf.Scalar, tf.Tensor];

/**
 * What a step reads and writes besides its batch: the variables it trains and the optimizer
 * state it replaces (`updated`: moments, beta powers) or only reads (`read`: the rate).
 */
export interface StepState {
  variables: tf.Variable[];
  updated: tf.Variable[];
  read: tf.Variable[];
}

/** Largest relative difference allowed between a compiled step and the eager one, over the loss and every updated value. */
const TOLERANCE = 1e-4;

interface Graph {
  call(...xs: tf.Tensor[]): tf.Tensor[];
  dispose(): void;
  ops: number;
  /** It has matched the eager step once. */
  checked: boolean;
  /** The random draws the step makes (dropout masks), in order: the graph's last inputs. */
  draws: Array<{ source: NoiseSource; shape: number[] }>;
}

/** A step's batch: model input(s), targets and, when weighted, per-example loss weights. */
interface StepBatch {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor;
  w?: tf.Tensor;
}

/** The batch's tensors as graph inputs, in order: x..., y, then w when there is one. */
function batchTensors(b: StepBatch): tf.Tensor[] {
  return [...[b.x].flat(), b.y, ...(b.w ? [b.w] : [])];
}

let hookChecked: Refusal | undefined | null = null;

/**
 * Whether the recorder's hook into tfjs-node (trace.ts) is the pinned version's, once per
 * process; the line says why not. A `probe` (tests) checks afresh.
 */
export function traceHookRefusal(probe?: Probe): Refusal | undefined {
  const check = (p: Probe): Refusal | undefined => checkPrivateApi(TRACE_HOOK, "compiled training step", "training steps run eagerly", p);
  if (probe) return check(probe);
  return hookChecked === null ? (hookChecked = check(installed)) : hookChecked;
}

/** The hook check's line when a version or member mismatch, not a setting or the backend, keeps steps eager: a run warning. */
export function compiledStepWarning(): string | undefined {
  if (process.env.TLRUN_COMPILED_STEP === "0" || typeof nativeBackend() === "string") return undefined;
  const r = traceHookRefusal();
  return r?.mismatch ? r.line : undefined;
}

/** Why training steps are not compiled here, or undefined when they may be. */
export function compiledStepsRefusal(): string | undefined {
  if (process.env.TLRUN_COMPILED_STEP === "0") return "TLRUN_COMPILED_STEP=0";
  const backend = nativeBackend();
  if (typeof backend === "string") return `${backend}: the compiled step needs the native backend`;
  return traceHookRefusal()?.line;
}

/**
 * Training steps as one TensorFlow session call each, on the native backend. Eagerly, tfjs-node
 * runs a step of the fine-tuned top as about 450 separate op calls; recorded once (trace.ts)
 * and loaded as a session (native-graph.ts), the same ops run in one call, on TensorFlow's own
 * thread pool, with its graph optimizer. The variables and the optimizer's state are inputs and
 * outputs of the graph, so the tfjs variables stay the weights' only home. Dropout masks
 * (NoiseSource draws) are inputs too: each compiled step asks the same sources for the same
 * draws the eager step would make, so both give the same masks.
 *
 * For each set of trained variables and batch shapes:
 * 1. the first step runs eagerly (the optimizer lays out its moments);
 * 2. the second runs eagerly too, recorded, and the recording is compiled;
 * 3. the third runs both ways from the same state, and the compiled graph is kept only if every
 *    output matches the eager step within 1e-4 relative, and if the step assigns no variable
 *    the graph does not carry (BatchNorm statistics in training mode, say). The eager result is
 *    the one kept;
 * 4. every later step runs compiled.
 * Any other set (a group unfrozen in a later epoch, a short last batch) goes through the same
 * stages itself; a refusal is remembered per set, and that set stays eager.
 */
export class CompiledSteps {
  private readonly graphs = new Map<string, Graph | string>();
  private readonly seen = new Set<string>();
  /** Steps run by a compiled graph and steps run eagerly. */
  readonly counts = { compiled: 0, eager: 0 };
  /** Why no step compiles here at all (the backend, TLRUN_COMPILED_STEP). */
  private readonly refusal = compiledStepsRefusal();
  /** The size of the first graph that passed its check, for describe(). */
  private ops?: number;
  /** The first reason some step stayed eager, for describe(). */
  private reason = this.refusal;

  /** Per key, how far an interrupted run had got (a checkpoint's): its graph is recorded again when the key comes up. */
  private readonly restored = new Map<string, "recorded" | "checked">();

  constructor(
    private readonly eager: EagerStep, private readonly state: () => StepState | string, resume?: StepsState, private readonly noise: NoiseSource[] = [],
  ) {
    if (!resume) return;
    for (const k of resume.seen) this.seen.add(k);
    for (const [k, g] of Object.entries(resume.graphs)) typeof g === "string" ? this.restored.set(k, g) : this.graphs.set(k, g.refused);
    Object.assign(this.counts, resume.counts);
    this.reason = resume.reason;
    this.ops = resume.ops;
  }

  /**
   * Where every set of steps stands, for a checkpoint: a run resumed from it steps each set as
   * this one would have (eager, recorded, checked or compiled), so its weights come out the same.
   */
  snapshot(): StepsState {
    const graphs: StepsState["graphs"] = Object.fromEntries(this.restored);
    for (const [k, g] of this.graphs) graphs[k] = typeof g === "string" ? { refused: g } : g.checked ? "checked" : "recorded";
    return { seen: [...this.seen], graphs, counts: { ...this.counts }, ...(this.reason !== undefined ? { reason: this.reason } : {}), ...(this.ops !== undefined ? { ops: this.ops } : {}) };
  }

  /**
   * One step on a batch. Per-example loss weights `w` are an input of the graph like the batch
   * itself (never a constant baked into the recording), so each batch's own weights apply.
   */
  async step(x: tf.Tensor | tf.Tensor[], y: tf.Tensor, w?: tf.Tensor): Promise<[tf.Scalar, tf.Tensor]> {
    const b: StepBatch = { x, y, w };
    const state = this.refusal ?? this.state();
    if (typeof state === "string") return this.eagerly(b, state);
    const key = batchTensors(b).map((t) => t.shape.join("x")).join(",") + "|" + state.variables.map((v) => v.name).join(",");
    if (this.restored.has(key)) await this.rerecord(key, state, b);
    const graph = this.graphs.get(key);
    if (typeof graph === "string") return this.eagerly(b, graph);
    if (graph && !graph.checked) return this.check(key, state, b, graph);
    if (graph) {
      this.counts.compiled++;
      return this.run(graph, state, b);
    }
    const first = !this.seen.has(key);
    this.seen.add(key);
    return first ? this.eagerly(b) : this.record(key, state, b);
  }

  /** How the steps ran, for the stage's report: `tensorflow graph, 303 ops: 40 of 42 steps` (and why any set stayed eager), or why none compiled. */
  describe(): string {
    const total = this.counts.compiled + this.counts.eager;
    const { ops } = this;
    if (ops !== undefined) return `tensorflow graph, ${ops} ops: ${this.counts.compiled} of ${total} steps${this.reason ? `; some eager: ${this.reason}` : ""}`;
    return `eager: ${this.reason ?? "no set of steps was long enough to compile"}`;
  }

  dispose(): void {
    for (const g of this.graphs.values()) if (typeof g !== "string") g.dispose();
    this.graphs.clear();
  }

  /**
   * The graph an interrupted run had recorded for `key`, recorded again on this batch without
   * its step taking effect: the weights, the optimizer's state, the dropout draws and the step
   * counts are put back as they were.
   */
  private async rerecord(key: string, state: StepState, b: StepBatch): Promise<void> {
    const stage = this.restored.get(key)!;
    this.restored.delete(key);
    const assigned = [...state.variables, ...state.updated];
    const start = assigned.map((v) => tf.keep(v.clone()));
    const counts = { ...this.counts };
    const reason = this.reason;
    const drawn = this.noise.map((n) => n.draws);
    try {
      tf.dispose(await this.record(key, state, b));
      const graph = this.graphs.get(key);
      if (graph && typeof graph !== "string") graph.checked = stage === "checked";
    } finally {
      assigned.forEach((v, i) => v.assign(start[i]!));
      this.noise.forEach((n, i) => (n.draws = drawn[i]!));
      tf.dispose(start);
      Object.assign(this.counts, counts);
      this.reason = reason;
    }
  }

  private eagerly(b: StepBatch, why?: string): [tf.Scalar, tf.Tensor] {
    this.counts.eager++;
    this.reason ??= why;
    return this.eager(b.x, b.y, b.w);
  }

  private inputs(state: StepState, b: StepBatch): tf.Tensor[] {
    return [...batchTensors(b), ...state.variables, ...state.updated, ...state.read];
  }

  /** Run this step eagerly while recording it, then compile and check the recording on the next one. */
  private async record(key: string, state: StepState, b: StepBatch): Promise<[tf.Scalar, tf.Tensor]> {
    const backend = nativeBackend();
    if (typeof backend === "string") return this.eagerly(b, backend);
    const names = [...[b.x].flat().map((_, i) => `x${i}`), "y", ...(b.w ? ["sw"] : []), ...state.variables.map((_, i) => `w${i}`), ...state.updated.map((_, i) => `s${i}`), ...state.read.map((_, i) => `r${i}`)];
    const inputs = this.inputs(state, b);
    const draws: Graph["draws"] = [];
    const carried = new Set([...state.variables, ...state.updated].map((v) => v.name));
    const before = new Map(Object.values(tf.engine().registeredVariables).map((v) => [v.name, v.dataId]));
    let result: [tf.Scalar, tf.Tensor] | undefined;
    this.counts.eager++;
    try {
      const trace = recordOps(backend, Object.fromEntries(names.map((n, i) => [n, inputs[i]!])), (input) => {
        const [cost, hits] = watchingDraws((source, shape, t) => input(`d${draws.push({ source, shape }) - 1}`, t), () => this.eager(b.x, b.y, b.w));
        result = [tf.keep(cost), tf.keep(hits)];
        return [cost, hits, ...state.variables, ...state.updated];
      });
      const stray = Object.values(tf.engine().registeredVariables).find((v) => !carried.has(v.name) && before.get(v.name) !== v.dataId);
      if (stray) throw new Unsupported(`the step also assigns ${stray.name}`);
      const session = await tensorflowSession(trace);
      this.graphs.set(key, { ...session, ops: trace.nodes.length, checked: false, draws });
    } catch (err) {
      if (!(err instanceof Unsupported)) {
        if (result) tf.dispose(result);
        throw err;
      }
      this.graphs.set(key, err.message);
      this.reason ??= err.message;
    }
    if (!result) throw new Error("the recorded step returned nothing");
    return result;
  }

  /** A compiled step: the graph's new weights and state replace the variables' values. */
  private run(graph: Graph, state: StepState, b: StepBatch): [tf.Scalar, tf.Tensor] {
    const noise = graph.draws.map((d) => d.source.next(d.shape));
    let outs: tf.Tensor[];
    try {
      outs = graph.call(...this.inputs(state, b), ...noise);
    } finally {
      tf.dispose(noise);
    }
    const assigned = [...state.variables, ...state.updated];
    assigned.forEach((v, i) => v.assign(outs[2 + i]!));
    tf.dispose(outs.slice(2));
    return [outs[0] as tf.Scalar, outs[1]!];
  }

  /** The first compiled step of `key`: run both ways from the same state and keep the graph only if they agree. */
  private check(key: string, state: StepState, b: StepBatch, graph: Graph): [tf.Scalar, tf.Tensor] {
    const assigned = [...state.variables, ...state.updated];
    const start = assigned.map((v) => tf.keep(v.clone()));
    const sources = [...new Set(graph.draws.map((d) => d.source))];
    const drawn = sources.map((s) => s.draws);
    try {
      const compiled = this.run(graph, state, b);
      const got = [...compiled, ...assigned].map((t) => t.dataSync().slice());
      tf.dispose(compiled);
      assigned.forEach((v, i) => v.assign(start[i]!));
      sources.forEach((s, i) => (s.draws = drawn[i]!)); // the eager step draws the same masks
      const eager = this.eagerly(b);
      const want = [...eager, ...assigned].map((t) => t.dataSync());
      const err = hostRelativeError(want, got);
      if (err <= TOLERANCE) {
        graph.checked = true;
        this.ops ??= graph.ops;
      } else {
        graph.dispose();
        this.graphs.set(key, `the compiled step differs from the eager one by ${err.toExponential(1)} relative`);
        this.reason ??= this.graphs.get(key) as string;
      }
      return eager;
    } finally {
      tf.dispose(start);
    }
  }
}

