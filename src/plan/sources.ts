import { existsSync, readFileSync } from "node:fs";
import { datasetFingerprint } from "../cache/fingerprint";
import type { LoadedConfig } from "../config/types";
import { baseShape, describeBase, type BaseDescription } from "../models/source";
import { resolveCut } from "../models/layers";
import { hashRecord, sha256 } from "../util/hash";
import { labelsFileOf } from "../data/scan-images";
import { dataDirOf } from "./paths";

/** Where a source stage (dataset, weights) stands: ready with the identity of its output, or to run. */
export interface SourceStatus {
  ready: boolean;
  /** The output's identity, which downstream keys hash; set when ready. */
  digest?: string;
  /** One line for `tlrun plan`. */
  note: string;
  /** The weights stage: whether they can be had without the network (present, or a file). */
  offline?: boolean;
  /** The dataset stage: whether running it can make the folder (a built-in dataset). */
  buildable?: boolean;
  /** The weights stage: the weights' identity without the cut, for the probe (strategy: auto), which cuts at several depths itself. */
  uncut?: string;
  /** The weights stage: the file it will download, when they are not here. */
  download?: BaseDescription["download"];
}

/**
 * The data folder: present (fingerprinted by paths, sizes and mtimes, and by the content of its
 * labels table, which may live elsewhere and whose edits must reach prepare's key even when size
 * and mtime do not change), or a built-in dataset to build.
 */
export function datasetStatus(loaded: LoadedConfig): SourceStatus {
  const dir = dataDirOf(loaded);
  const builtin = loaded.config.data.builtin;
  const labels = labelsFileOf(loaded);
  if (existsSync(dir) && labels && existsSync(labels)) return { ready: true, digest: hashRecord({ dir: datasetFingerprint(dir), labels: sha256(readFileSync(labels)) }), note: `${dir}, labels from ${labels}` };
  if (existsSync(dir)) return { ready: true, digest: datasetFingerprint(dir), note: dir };
  if (builtin) return { ready: false, buildable: true, note: `builds the ${builtin} dataset into ${dir}` };
  return { ready: false, note: `${dir} does not exist` };
}

/**
 * The base's weights: present (their identity with the cut and topology), or to fetch. The digest
 * covers the topology and resolved cut, so a base changed behind the same name changes every key
 * that uses it.
 */
export function weightsStatus(loaded: LoadedConfig): SourceStatus {
  const c = loaded.config;
  const d = describeBase(c.base.model, c.base.weights, loaded.baseDir);
  if (!d.offline) return { ready: false, note: d.note, offline: false, ...(d.download ? { download: d.download } : {}) };
  const shape = baseShape(c.base.model, loaded.baseDir);
  const cut = shape.graph ? "graph" : resolveCut(shape, c.base.cut);
  const topology = hashRecord(shape.graph?.modelTopology ?? shape.topology);
  return { ready: true, digest: hashRecord({ weights: d.weightsId, cut, topology }), uncut: hashRecord({ weights: d.weightsId, topology }), note: d.note, offline: true };
}
