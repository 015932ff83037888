/**
 * Feed each item of `source` to `submit`, keeping up to `inFlight` submissions outstanding, and
 * hand each result to `consume` in the order submitted. The stages use it to keep the inference
 * workers busy while the loader decodes the next batch: a batch waited for one at a time left the
 * workers idle for every decode. `submit` must not keep its argument past the call (the loader
 * refills its buffers). `beforeEach` runs before each submission (an abort check).
 */
export async function inOrder<T, R>(
  source: AsyncIterable<T>, inFlight: number, submit: (item: T) => Promise<R>, consume: (result: R, item: T) => void, beforeEach?: () => void,
): Promise<void> {
  const queue: Array<{ out: Promise<R>; item: T }> = [];
  const settle = async (): Promise<void> => {
    const { out, item } = queue.shift()!;
    consume(await out, item);
  };
  try {
    for await (const item of source) {
      beforeEach?.();
      const out = submit(item);
      out.catch(() => undefined); // awaited in order by settle; this only keeps a later failure from being "unhandled" meanwhile
      queue.push({ out, item });
      if (queue.length >= Math.max(1, inFlight)) await settle();
    }
    while (queue.length > 0) await settle();
  } finally {
    queue.length = 0;
  }
}
