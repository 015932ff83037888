/**
 * Child-process entry of `prepareInChild`: prepare one architecture's weights and print the
 * outcome as one JSON line on stdout. Download progress goes to stderr.
 */
import { TlrunError } from "../../errors";
import { ARCHITECTURES } from "../zoo";
import { progressPrinter } from "./progress";
import { prepareArchitecture } from "./prepare";

async function main(): Promise<void> {
  (await import("@tensorflow/tfjs")).enableProdMode(); // no "install the node backend" banner: this process only reads shapes
  const { model, weights, baseDir } = JSON.parse(process.argv[2] ?? "{}") as { model: string; weights: string; baseDir: string };
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
