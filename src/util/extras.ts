import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { TlrunError } from "../errors";
import { cacheRoot } from "./cache-root";
import { pidAlive } from "./pid";

/** A package that only one feature needs, installed into tlrun's cache the first time it runs. */
export interface ExtraPackage {
  name: string;
  /** Exact version: what is installed, and the name of its cache folder. */
  version: string;
  /** What it is for and roughly how big, for the line printed before installing it. */
  purpose: string;
  /** What `npm install` is given, when not name@version (a test's tarball). */
  spec?: string;
  /** Installed as a dependency of this extra rather than on its own, so both use one copy. */
  with?: ExtraName;
}

export type ExtraName = "emoji-datasource-google" | "emoji-datasource-twitter" | "nsfwjs" | "bullmq" | "ioredis";

/** The extras, at the versions tlrun was tested with. */
export const EXTRAS: Record<ExtraName, ExtraPackage> = {
  "emoji-datasource-google": { name: "emoji-datasource-google", version: "16.0.0", purpose: "the quickstart's images, ~80 MB" },
  "emoji-datasource-twitter": { name: "emoji-datasource-twitter", version: "16.0.0", purpose: "the Twitter emoji images, ~70 MB" },
  nsfwjs: { name: "nsfwjs", version: "4.3.0", purpose: "the embedded mobilenet_v2 weights, ~40 MB" },
  bullmq: { name: "bullmq", version: "5.81.5", purpose: "sweep queues with --queue, ~13 MB with ioredis" },
  // bullmq 5.81.5 depends on exactly ioredis 5.11.1: the connections tlrun makes are the kind it expects
  ioredis: { name: "ioredis", version: "5.11.1", purpose: "the Redis client of sweep queues", with: "bullmq" },
};

/** Written last into an install folder: a folder without it is an install cut short. */
const MARKER = ".tlrun-installed.json";

export interface ExtraLocation {
  /** The package's folder. */
  dir: string;
  from: "project" | "cache";
}

export interface InstallOptions {
  /** Where the one line announcing an install goes; stderr by default. */
  log?: (line: string) => void;
}

/** Where an extra is now, without installing it: the project's node_modules first, then tlrun's cache. */
export function locateExtra(pkg: ExtraPackage): ExtraLocation | undefined {
  for (const nm of require.resolve.paths(pkg.name) ?? []) {
    if (existsSync(join(nm, pkg.name, "package.json"))) return { dir: join(nm, pkg.name), from: "project" };
  }
  const home = installDir(hostOf(pkg));
  if (!existsSync(join(home, MARKER))) return undefined;
  const top = join(home, "node_modules");
  for (const dir of [join(top, pkg.name), join(top, hostOf(pkg).name, "node_modules", pkg.name)]) {
    if (existsSync(join(dir, "package.json"))) return { dir, from: "cache" };
  }
  return undefined;
}

/** The folder of an extra package, installed into `<cache>/packages` the first time it is needed. */
export function ensureExtra(pkg: ExtraPackage, opts: InstallOptions = {}): string {
  const found = locateExtra(pkg);
  if (found) return found.dir;
  install(hostOf(pkg), opts.log ?? ((line) => void process.stderr.write(`${line}\n`)));
  const installed = locateExtra(pkg);
  if (!installed) throw new TlrunError(`${pkg.name} is missing from its install in ${installDir(hostOf(pkg))}\n  hint: ${byHand(pkg)}`);
  return installed.dir;
}

/** The folder of one of tlrun's extras (see EXTRAS), installing it on first use. */
export function extraDir(name: ExtraName, opts?: InstallOptions): string {
  return ensureExtra(EXTRAS[name], opts);
}

/** Load one of tlrun's extras the way `require(name)` would from the folder that holds it. */
export function requireExtra<T>(name: ExtraName, opts?: InstallOptions): T {
  const dir = extraDir(name, opts);
  const nodeModules = dir.slice(0, dir.length - name.length - 1);
  return createRequire(join(nodeModules, "noop.js"))(name) as T;
}

/** `<cache>/packages/<name>@<version>`, whose node_modules holds the package and its dependencies. */
export function installDir(pkg: ExtraPackage): string {
  return join(cacheRoot(), "packages", `${pkg.name}@${pkg.version}`);
}

function hostOf(pkg: ExtraPackage): ExtraPackage {
  return pkg.with ? EXTRAS[pkg.with] : pkg;
}

function byHand(pkg: ExtraPackage): string {
  return `install it by hand in tlrun's folder with: npm install ${pkg.name}@${pkg.version}`;
}

/**
 * npm installs into a folder of this process's own, which gets the marker last and is then renamed
 * into place: a concurrent install of the same package loses the rename and is dropped, and an
 * install killed midway leaves only a temporary folder, removed by the next install.
 */
function install(pkg: ExtraPackage, log: (line: string) => void): void {
  const home = installDir(pkg);
  const npm = npmCommand();
  log(`installing ${pkg.name}@${pkg.version} (${pkg.purpose}) into ${tilde(dirname(home))}, once`);
  const tmp = `${home}.tmp-${hostname()}-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    removeAbandoned(home);
    // --omit=peer: nsfwjs' peer @tensorflow/tfjs would add 290 MB that tlrun never loads from there
    const args = ["install", "--prefix", tmp, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=peer", pkg.spec ?? `${pkg.name}@${pkg.version}`];
    const r = spawnSync(npm[0]!, [...npm.slice(1), ...args], { cwd: tmp, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
    if (r.error) throw failed(pkg, (r.error as NodeJS.ErrnoException).code === "ENOENT" ? `${npm[0]} was not found` : r.error.message);
    if (r.status !== 0) throw failed(pkg, r.signal ? `npm was stopped by ${r.signal}` : npmReason(r.stderr));
    if (!existsSync(join(tmp, "node_modules", pkg.name, "package.json"))) throw failed(pkg, `npm left no ${pkg.name} in ${tmp}`);
    writeFileSync(join(tmp, MARKER), JSON.stringify({ name: pkg.name, version: pkg.version, spec: pkg.spec, at: new Date().toISOString() }) + "\n");
    publish(tmp, home);
  } catch (err) {
    if (err instanceof TlrunError) throw err;
    throw failed(pkg, (err as Error).message);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Rename the finished `tmp` to `home`, unless another process got there first; a `home` without the marker is replaced. */
function publish(tmp: string, home: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(tmp, home);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt >= 3) throw err;
    }
    if (existsSync(join(home, MARKER))) return;
    const aside = `${home}.tmp-${hostname()}-${process.pid}-${Date.now()}-aside`;
    try {
      renameSync(home, aside);
    } catch {
      continue; // another process moved it first
    }
    rmSync(aside, { recursive: true, force: true });
  }
}

/** Temporary folders of installs whose process died on this host, or a day old from another. */
function removeAbandoned(home: string): void {
  const prefix = `${basename(home)}.tmp-`;
  for (const entry of readdirSync(dirname(home))) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(.*)-(\d+)-\d+(-aside)?$/.exec(entry.slice(prefix.length));
    const path = join(dirname(home), entry);
    const mine = m?.[1] === hostname();
    const gone = mine ? !pidAlive(Number(m![2])) : Date.now() - mtime(path) > 24 * 3600_000;
    if (gone) rmSync(path, { recursive: true, force: true });
  }
}


function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** npm as npx ran us (npm_execpath), else `npm` on PATH. */
function npmCommand(): string[] {
  const execpath = process.env.npm_execpath;
  if (execpath && /(^|[\\/])np[mx]-cli\.js$/.test(execpath)) return [process.execPath, execpath.replace(/npx-cli\.js$/, "npm-cli.js")];
  return [process.platform === "win32" ? "npm.cmd" : "npm"];
}

/** The telling lines of npm's errors: not its warnings, error codes or log-file line. */
function npmReason(stderr: string): string {
  const errors = stderr.split("\n").filter((l) => l.startsWith("npm error ")).map((l) => l.slice(10).trim());
  const told = errors.filter((l) => /\s/.test(l) && !/^(code|syscall|path|errno) |^A complete log/.test(l));
  return `npm: ${told.slice(0, 2).join("; ") || stderr.trim().split("\n").pop() || "failed"}`;
}

function failed(pkg: ExtraPackage, reason: string): TlrunError {
  return new TlrunError(`could not install ${pkg.name}@${pkg.version} into ${tilde(dirname(installDir(pkg)))} (${reason})\n  hint: ${byHand(pkg)}`);
}

function tilde(path: string): string {
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
