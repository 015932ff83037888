import { Listr, ListrLogger, ProcessOutput } from "listr2";

export type RendererName = "default" | "simple" | "silent";

/** One line of the task tree: a title that may change, and a live output line. */
export interface TaskView {
  title: string;
  output: string;
}

/** The renderer for `stream`: the live tree on a terminal, plain lines in CI and pipes. */
export function pickRenderer(stream: NodeJS.WriteStream, asked?: RendererName): RendererName {
  if (asked) return asked;
  return stream.isTTY && !process.env.CI ? "default" : "simple";
}

/** Run `steps` one after another as a listr2 task tree on `stream`; the first failure stops it. */
export async function renderSteps(
  steps: Array<{ title: string; run(view: TaskView): Promise<void> }>,
  renderer: RendererName,
  stream: NodeJS.WriteStream,
): Promise<void> {
  const tasks = new Listr(
    steps.map((s) => ({ title: s.title, task: (_: unknown, view: TaskView) => s.run(view) })),
    {
      renderer,
      fallbackRenderer: "simple",
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) } as never,
    },
  );
  await tasks.run();
}
