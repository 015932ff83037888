/**
 * What the server refused, one line per cause. A server whose artifact store tlrun cannot reach
 * refuses every artifact with the same message: 29 lines on the quickstart, one cause. Entries
 * are `<id>: <message>` (sync.ts); those with the same message become one line naming a few ids.
 */
export function refusalLines(rejected: readonly string[], shown = 3): string[] {
  const byMessage = new Map<string, string[]>();
  for (const r of rejected) {
    const at = r.indexOf(": ");
    const [id, message] = at < 0 ? [r, ""] : [r.slice(0, at), r.slice(at + 2)];
    byMessage.set(message, [...(byMessage.get(message) ?? []), id]);
  }
  return [...byMessage].map(([message, ids]) => {
    const named = ids.slice(0, shown).join(", ") + (ids.length > shown ? `, and ${ids.length - shown} more` : "");
    const what = ids.length === 1 ? ids[0]! : `${ids.length} items (${named})`;
    return message ? `${what}: ${message}` : what;
  });
}
