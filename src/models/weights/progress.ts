import type { Progress } from "./download";

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** A download progress line on stderr, at most twice a second, and a final line when done. */
export function progressPrinter(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (!done && now - last < 500) return;
    last = now;
    const pct = total ? ` (${Math.floor((100 * received) / total)}%)` : "";
    const line = `downloading ${label} weights: ${mb(received)}${total ? ` / ${mb(total)}` : ""} MB${pct}`;
    stream.write(stream.isTTY ? `\r${line}${done ? "\n" : ""}` : done || received === 0 ? `${line}\n` : "");
  };
}
