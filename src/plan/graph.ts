/** A node of a stage graph: a name and the names it depends on. */
export interface GraphNode {
  name: string;
  deps: readonly string[];
}

/**
 * Order nodes so every node comes after its dependencies (Kahn's algorithm, stable in the
 * given order). Throws on a missing dependency or a cycle, naming the nodes involved.
 */
export function toposort<T extends GraphNode>(nodes: readonly T[]): T[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes)
    for (const d of n.deps) if (!byName.has(d)) throw new Error(`stage '${n.name}' depends on unknown stage '${d}'`);
  const indegree = new Map(nodes.map((n) => [n.name, n.deps.length]));
  const ready = nodes.filter((n) => n.deps.length === 0);
  const out: T[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    out.push(n);
    for (const m of nodes) {
      if (!m.deps.includes(n.name)) continue;
      const left = indegree.get(m.name)! - 1;
      indegree.set(m.name, left);
      if (left === 0) ready.push(m);
    }
  }
  if (out.length !== nodes.length) {
    const stuck = nodes.filter((n) => !out.includes(n)).map((n) => n.name);
    throw new Error(`stage graph has a cycle through: ${stuck.join(" -> ")}`);
  }
  return out;
}

/** Every node that `name` depends on, directly or not. */
export function upstreamOf(nodes: readonly GraphNode[], name: string): Set<string> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = [...(byName.get(name)?.deps ?? [])];
  while (stack.length) {
    const d = stack.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    stack.push(...(byName.get(d)?.deps ?? []));
  }
  return seen;
}
