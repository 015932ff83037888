/**
 * Child-process entry of `prepareInChild`: prepare one architecture's weights, or download a
 * model from a URL, and print the outcome as one JSON line on stdout. Progress goes to stderr.
 */
import { TlrunError } from "../../errors";
import { fetchRemoteModel, fetchRemoteModelJson, remoteModelRef } from "../remote-model";
import { ARCHITECTURES } from "../zoo";
import { progressPrinter } from "./progress";
import { prepareArchitecture } from "./prepare";

async function main(): Promise<void> {
  (await import("@tensorflow/tfjs")).enableProdMode(); // no "install the node backend" banner: this process only reads shapes
  const { model, weights, baseDir, only } = JSON.parse(process.argv[2] ?? "{}") as { model: string; weights: string; baseDir: string; only?: "json" };
  const remote = remoteModelRef(model);
  if (remote) return void (only === "json" ? await fetchRemoteModelJson(remote) : await fetchRemoteModel(remote, progressPrinter("model")));
  const arch = ARCHITECTURES[model];
  if (!arch) throw new TlrunError(`unknown architecture '${model}'`, 2);
  await prepareArchitecture(arch, weights, baseDir, progressPrinter(arch.name));
}

main().then(
  () => process.stdout.write(JSON.stringify({ ok: true }) + "\n"),
  (err: Error) => {
    const exitCode = err instanceof TlrunError ? err.exitCode : 70;
    process.stdout.write(JSON.stringify({ ok: false, error: err instanceof TlrunError ? err.message : `internal error: ${err.stack ?? err.message}`, exitCode }) + "\n");
    process.exitCode = 1;
  },
);
