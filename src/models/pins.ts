import * as tf from "@tensorflow/tfjs";
import { nativePackage } from "./native-package";

/**
 * The private APIs tlrun's compiled paths use, checked before they are used: the installed
 * version must be the pinned one, and each member the code touches must be there with the
 * type it expects. Otherwise the path runs eagerly, and one line says why.
 *
 * The pins are package.json's optionalDependencies, read from it, so they cannot diverge from
 * what npm installs; test/models/engine.test.ts fails when either changes.
 */
const PACKAGE = require("../../../package.json") as { optionalDependencies: Record<string, string> };

export type PinnedPackage = "@tensorflow/tfjs-node" | "onnxruntime-node";

/** The exact version of `pkg` the private API code was written against. */
export function pinOf(pkg: PinnedPackage): string {
  return PACKAGE.optionalDependencies[pkg]!;
}

/** A package's private API: what tlrun calls it, and the members it uses with their types. */
export interface PrivateApi {
  pkg: PinnedPackage;
  /** As a warning names it: "private binding API". */
  name: string;
  /** Dotted paths from the API's root object to the typeof each must have; "getter" for an accessor. */
  members: Record<string, "function" | "object" | "number" | "getter">;
}

/** Where the checks look: the installed version, and the API's root object (or why there is none). Tests inject their own. */
export interface Probe {
  version(pkg: PinnedPackage): string | undefined;
  root(api: PrivateApi): object | string;
}

/** Why a private API cannot be used; `mismatch` when it is installed but not as pinned (a run warning). */
export interface Refusal {
  line: string;
  mismatch: boolean;
}

/** The member at `path` under `root`, as "getter" when an accessor (a native getter read off a prototype would throw) or its typeof. */
function memberType(root: object, path: string): string {
  let at: unknown = root;
  const keys = path.split(".");
  for (const [i, key] of keys.entries()) {
    if (at === null || (typeof at !== "object" && typeof at !== "function")) return "undefined";
    const d = Object.getOwnPropertyDescriptor(at, key);
    if (i === keys.length - 1 && d?.get) return "getter";
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at;
}

/**
 * Why `api` cannot be used by tlrun's `what` (a phrase: "compiled inference"), with `then` (what
 * runs instead: "frozen passes run eagerly") after a semicolon; undefined when it can.
 */
export function checkPrivateApi(api: PrivateApi, what: string, then: string, probe: Probe = installed): Refusal | undefined {
  const installedVersion = probe.version(api.pkg);
  if (installedVersion === undefined) return { line: `${api.pkg} is not installed; ${then}`, mismatch: false };
  const pinned = pinOf(api.pkg);
  if (installedVersion !== pinned)
    return { line: `${api.pkg} ${installedVersion} is installed, tlrun's ${what} is pinned to ${pinned} (${api.name}); ${then}`, mismatch: true };
  const root = probe.root(api);
  if (typeof root === "string") return { line: `${root}; ${then}`, mismatch: false };
  for (const [path, type] of Object.entries(api.members)) {
    const got = memberType(root, path);
    if (got === type) continue;
    const found = got === "undefined" ? `lacks ${path}` : `has ${path} as a ${got}`;
    return { line: `${api.pkg} ${installedVersion} ${found}, where tlrun's ${what} needs a ${type} (${api.name}); ${then}`, mismatch: true };
  }
  return undefined;
}

/** The real installation: package.json versions, the live tfjs-node backend, onnxruntime-node's binding module. */
export const installed: Probe = {
  version(pkg) {
    // tfjs-node-gpu is the same code, released under the same version numbers
    const name = pkg === "@tensorflow/tfjs-node" ? nativePackage() ?? pkg : pkg;
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return undefined;
    }
  },
  root(api) {
    if (api.pkg === "@tensorflow/tfjs-node") {
      // the trace hooks the backend instance, which exists once the native backend has loaded
      if (nativePackage() === undefined) return `the native backend is not loaded (backend ${tf.getBackend()})`;
      return (tf.findBackend("tensorflow") as object | null) ?? "the native backend did not initialise";
    }
    try {
      return require("onnxruntime-node/dist/binding") as object;
    } catch (err) {
      return `onnxruntime-node does not load: ${(err as Error).message.split("\n")[0]}`;
    }
  },
};
