import type { Progress } from "./download";

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** "downloading vgg16 weights: 12.3 / 58.9 MB (20%)". */
export function downloadLine(label: string, received: number, total: number | undefined): string {
  const pct = total ? ` (${Math.floor((100 * received) / total)}%)` : "";
  return `downloading ${label} weights: ${mb(received)}${total ? ` / ${mb(total)}` : ""} MB${pct}`;
}

/** A download progress line on stderr, at most twice a second, and a final line when done. */
export function progressPrinter(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (!done && now - last < 500) return;
    last = now;
    const line = downloadLine(label, received, total);
    stream.write(stream.isTTY ? `\r${line}${done ? "\n" : ""}` : done || received === 0 ? `${line}\n` : "");
  };
}
