import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "../../src/plan/compile";
import { stageKey } from "../../src/plan/keys";
import { chainKeys as chainOf } from "../../src/plan/resolve";
import { toposort, upstreamOf } from "../../src/plan/graph";
import { defaultConfig } from "./fixtures";

type Ext = { datasetFingerprint: string; baseIdentity: string; codeVersion: string };
const ext: Ext = { datasetFingerprint: "fp", baseIdentity: "base", codeVersion: "0.0.0" };
/** The keys of every stage with the dataset and weights stages' digests standing for the data folder and the base. */
const chainKeys = (plan: ReturnType<typeof compile>, e: Ext) => chainOf(plan, new Map([["dataset", e.datasetFingerprint], ["weights", e.baseIdentity]] as const), e.codeVersion);

test("a config with a fine-tune phase compiles to its stages in order, the audit after extract", () => {
  const plan = compile(defaultConfig());
  assert.deepEqual(plan.stages.map((s) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"]);
});

test("without a fine-tune phase there is no unfreeze or fine-tune", () => {
  const c = defaultConfig();
  c.train.fine_tune = null;
  const plan = compile(c);
  assert.deepEqual(plan.stages.map((s) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "evaluate"]);
  assert.deepEqual(plan.stages.at(-1)!.deps, ["train-head", "prepare", "extract"]);
});

test("changing the head changes train-head onward but not prepare or extract", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.head.dropout = 0.3;
  const b = chainKeys(compile(c), ext);
  assert.equal(a.get("prepare"), b.get("prepare"));
  assert.equal(a.get("extract"), b.get("extract"));
  for (const s of ["train-head", "unfreeze", "fine-tune", "evaluate"] as const) assert.notEqual(a.get(s), b.get(s), s);
});

test("changing the fine-tune rate leaves the head phase cached", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.train.fine_tune!.learning_rate = 3e-5;
  const b = chainKeys(compile(c), ext);
  for (const s of ["prepare", "extract", "audit", "train-head", "unfreeze"] as const) assert.equal(a.get(s), b.get(s), s);
  assert.notEqual(a.get("fine-tune"), b.get("fine-tune"));
});

test("gradual unfreezing and discriminative rates are part of the fine-tune key, not the head's", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const edits: Array<(c: ReturnType<typeof defaultConfig>) => void> = [
    (c) => (c.freeze.gradual = true),
    (c) => (c.train.fine_tune!.lr_decay = 0.8),
    (c) => (c.train.fine_tune!.lr_multipliers = [{ from: "block_13", factor: 0.1 }]),
  ];
  for (const edit of edits) {
    const c = defaultConfig();
    edit(c);
    const b = chainKeys(compile(c), ext);
    for (const s of ["prepare", "extract", "audit", "train-head"] as const) assert.equal(a.get(s), b.get(s), s);
    assert.notEqual(a.get("fine-tune"), b.get("fine-tune"), edit.toString());
    assert.deepEqual(compile(c).stages.find((s) => s.name === "fine-tune")!.params.gradual, c.freeze.gradual);
  }
});

test("changing the input size or the data re-runs extract, and the data re-runs prepare", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.base.input_size = [128, 128];
  const b = chainKeys(compile(c), ext);
  assert.equal(a.get("prepare"), b.get("prepare"));
  assert.notEqual(a.get("extract"), b.get("extract"));
  const d = chainKeys(compile(defaultConfig()), { ...ext, datasetFingerprint: "other" });
  assert.notEqual(a.get("prepare"), d.get("prepare"));
});

test("changing the interpolation re-runs extract and everything after it, not prepare", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.data.interpolation = "lanczos3";
  const b = chainKeys(compile(c), ext);
  assert.equal(a.get("prepare"), b.get("prepare"));
  for (const s of ["extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"] as const) assert.notEqual(a.get(s), b.get(s), s);
});

test("a key is unknown until every dependency has a digest", () => {
  const plan = compile(defaultConfig());
  const prepare = plan.stages.find((s) => s.name === "prepare")!;
  assert.equal(stageKey(prepare, new Map(), ext.codeVersion), undefined);
  assert.match(stageKey(prepare, new Map([["dataset", "fp"]]), ext.codeVersion)!, /^[0-9a-f]{64}$/);
});

test("keys do not depend on the order of keys in the config", () => {
  const c = defaultConfig();
  const { output, ...rest } = c.head;
  const reordered = JSON.parse(JSON.stringify({ ...c, head: { output, ...rest } }));
  assert.deepEqual(chainKeys(compile(c), ext), chainKeys(compile(reordered), ext));
});

test("toposort orders dependencies first and names a cycle", () => {
  const sorted = toposort([{ name: "c", deps: ["b"] }, { name: "a", deps: [] }, { name: "b", deps: ["a"] }]);
  assert.deepEqual(sorted.map((n) => n.name), ["a", "b", "c"]);
  assert.throws(() => toposort([{ name: "a", deps: ["b"] }, { name: "b", deps: ["a"] }]), /cycle through: a -> b/);
  assert.throws(() => toposort([{ name: "a", deps: ["z"] }]), /unknown stage 'z'/);
  assert.deepEqual([...upstreamOf([{ name: "a", deps: [] }, { name: "b", deps: ["a"] }, { name: "c", deps: ["b"] }], "c")].sort(), ["a", "b"]);
});

test("the fine-tune views setting re-runs fine-tune only", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.augment.fine_tune_views = 2;
  const b = chainKeys(compile(c), ext);
  for (const s of ["prepare", "extract", "audit", "train-head", "unfreeze"] as const) assert.equal(a.get(s), b.get(s), s);
  assert.notEqual(a.get("fine-tune"), b.get("fine-tune"));
});

test("class_weight and sampling re-run train-head and fine-tune only, and at their defaults keys stay as without them", () => {
  const a = chainKeys(compile(defaultConfig()), ext);
  // At the defaults the params are those of a config written before the two keys existed.
  for (const node of compile(defaultConfig()).stages) assert.ok(!("class_weight" in node.params) && !("sampling" in node.params), node.name);
  const edits: Array<(c: ReturnType<typeof defaultConfig>) => void> = [
    (c) => (c.train.class_weight = "balanced"),
    (c) => (c.train.class_weight = { cats: 2 }),
    (c) => (c.data.sampling = "oversample"),
    (c) => (c.data.sampling = "undersample"),
  ];
  const seen = new Set<string>();
  for (const edit of edits) {
    const c = defaultConfig();
    edit(c);
    const b = chainKeys(compile(c), ext);
    for (const s of ["prepare", "extract"] as const) assert.equal(a.get(s), b.get(s), `${s}: ${edit}`);
    for (const s of ["train-head", "fine-tune", "evaluate"] as const) assert.notEqual(a.get(s), b.get(s), `${s}: ${edit}`);
    seen.add(b.get("train-head")!);
  }
  assert.equal(seen.size, edits.length, "each setting has its own key");
});

test("sgd phases get new keys after the learning-rate fix; adam's keys stay what they were", () => {
  const params = (c: ReturnType<typeof defaultConfig>) => Object.fromEntries(compile(c).stages.map((s) => [s.name, JSON.stringify(s.params)]));
  const adam = params(defaultConfig());
  const sgd = defaultConfig();
  sgd.train.head = { ...sgd.train.head, optimizer: "sgd" };
  assert.match(params(sgd)["train-head"]!, /"sgd_rate":2/);
  assert.doesNotMatch(adam["train-head"]!, /sgd_rate/);
  assert.doesNotMatch(adam["fine-tune"]!, /sgd_rate/);
});

test("the audit stage is on by default and warning leaves every other key as it was without it", () => {
  const on = chainKeys(compile(defaultConfig()), ext);
  const c = defaultConfig();
  c.data.audit.enabled = false;
  const off = chainKeys(compile(c), ext);
  assert.ok(on.has("audit") && !off.has("audit"));
  for (const s of ["prepare", "extract", "train-head", "unfreeze", "fine-tune", "evaluate"] as const) assert.equal(on.get(s), off.get(s), s);
  const e = defaultConfig();
  e.data.audit.leakage = "error";
  assert.equal(chainKeys(compile(e), ext).get("audit"), on.get("audit"), "warn and error share the cached audit");
  const t = defaultConfig();
  t.data.audit.thresholds = { ...t.data.audit.thresholds, phash_max_distance: 6 };
  const tuned = chainKeys(compile(t), ext);
  assert.notEqual(tuned.get("audit"), on.get("audit"), "a threshold re-runs the audit");
  assert.equal(tuned.get("train-head"), on.get("train-head"), "and nothing else when it only warns");
});

test("a drop policy makes the training and evaluation stages depend on the audit", () => {
  const warn = chainKeys(compile(defaultConfig()), ext);
  for (const policy of [{ leakage: "drop" as const }, { duplicates: "drop" as const }]) {
    const c = defaultConfig();
    Object.assign(c.data.audit, policy);
    const plan = compile(c);
    for (const s of ["train-head", "fine-tune", "evaluate"]) assert.ok(plan.stages.find((n) => n.name === s)!.deps.includes("audit"), s);
    const keys = chainKeys(plan, ext);
    assert.equal(keys.get("extract"), warn.get("extract"));
    assert.notEqual(keys.get("audit"), warn.get("audit"));
    assert.notEqual(keys.get("train-head"), warn.get("train-head"));
  }
});
