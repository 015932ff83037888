import { basename, relative } from "node:path";
import { redactUrl } from "../sweep/redis-url";
import { shellQuote } from "../util/shell-quote";

/**
 * The command that resumes an interrupted run or sweep, printed after Ctrl-C so the user can
 * paste it: the arguments as they were typed, `--set` flags included, quoted for a POSIX shell.
 * `--force` is dropped, because a forced run recomputes every stage and would throw away what
 * the interrupted one finished.
 */

/**
 * How the user reached this CLI, so the printed command works in the same shell: `npx tlrun`
 * under npx, `tlrun` from an installed bin, otherwise `node <script>` relative to the cwd.
 */
export function invocation(env: NodeJS.ProcessEnv = process.env, script = process.argv[1] ?? "tlrun", cwd = process.cwd()): string {
  if (env.npm_command === "exec") return "npx tlrun";
  if (basename(script) === "tlrun") return "tlrun";
  const rel = relative(cwd, script);
  return `node ${shellQuote(rel.startsWith("..") || rel === "" ? script : rel)}`;
}

/** `argv` without the flags named in `drop` (boolean flags, in `--flag` or `--flag=value` form). */
function without(argv: readonly string[], drop: readonly string[], dropWithValue: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : "";
    if (drop.includes(name)) continue;
    if (dropWithValue.includes(name)) {
      if (!a.includes("=")) i++; // its value is the next argument
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Quote the arguments, hiding any password in a Redis URL; says when one was hidden. */
function render(prefix: string, args: readonly string[]): string {
  let hidden = false;
  const words = args.map((a) => {
    const m = /^(--queue=)?(rediss?:\/\/.*)$/.exec(a);
    if (!m) return shellQuote(a);
    const url = redactUrl(m[2]!, "PASSWORD");
    hidden ||= url !== m[2];
    return shellQuote((m[1] ?? "") + url);
  });
  return `${prefix} ${words.join(" ")}${hidden ? "   (with the Redis password in place of PASSWORD)" : ""}`;
}

/** The command that resumes an interrupted `tlrun run`, from the arguments it was given. */
export function resumeRunCommand(argv: readonly string[], prefix = invocation()): string {
  return render(prefix, without(argv, ["force"]));
}

/** The command that resumes sweep `sweepId`, from the arguments `tlrun sweep` was given. */
export function resumeSweepCommand(argv: readonly string[], sweepId: string, prefix = invocation()): string {
  const args = without(argv, ["resume", "force"], ["id"]);
  return render(prefix, [...args, "--resume", "--id", sweepId]);
}
