/**
 * The Redis URL of a queue may hold a password, and a `rediss://` one needs a CA to trust a
 * private server. The password is never printed or stored: every URL shown goes through
 * `redactUrl`, and every message that came from the client through `redactText`.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../errors";

/** The password, when it is not in the URL (keeps it out of `ps` and shell history). */
export const PASSWORD_ENV = "TLRUN_REDIS_PASSWORD";
/** A PEM file of the CA that signed a `rediss://` server's certificate (a private CA). */
export const CA_ENV = "TLRUN_REDIS_CA";

export interface RedisConnectOptions {
  password?: string;
  tls?: { ca?: Buffer };
}

const AUTH = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i;

/**
 * `redis://user:secret@host:port` → `redis://user:***@host:port`; a URL without a password as it
 * is. `mask` replaces the secret (a resume hint shows a word the user can see to replace).
 */
export function redactUrl(url: string, mask = "***"): string {
  return url.replace(AUTH, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(":");
    return `${scheme}${colon < 0 ? mask : `${auth.slice(0, colon)}:${mask}`}@`;
  });
}

/** The secrets of `url` (the password as written and decoded), and of the password variable. */
function secretsOf(url: string, env: NodeJS.ProcessEnv): string[] {
  const auth = AUTH.exec(url)?.[2];
  const out = [env[PASSWORD_ENV] ?? ""];
  if (auth) {
    const raw = auth.includes(":") ? auth.slice(auth.indexOf(":") + 1) : auth;
    out.push(raw);
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      // not valid percent-encoding: the raw form is all there is
    }
  }
  return out.filter((s) => s.length >= 1);
}

/** `text` with the URL redacted and any occurrence of its password replaced by ***. */
export function redactText(text: string, url: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text.split(url).join(redactUrl(url));
  for (const s of secretsOf(url, env).sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}

/** Options for ioredis beyond the URL: the password from the environment, the CA for TLS. */
export function connectOptions(url: string, env: NodeJS.ProcessEnv = process.env): RedisConnectOptions {
  if (!/^rediss?:\/\/[^/?#]/i.test(url)) throw new UsageError(`--queue takes a Redis URL such as redis://127.0.0.1:6379 or rediss://:PASSWORD@host:6380, found '${redactUrl(url)}'`);
  const tls = /^rediss:/i.test(url);
  const out: RedisConnectOptions = {};
  if (env[PASSWORD_ENV] && !/:[^@/]*@/.test(url.replace(/^rediss?:\/\//i, ""))) out.password = env[PASSWORD_ENV];
  const ca = env[CA_ENV];
  if (ca && !tls) throw new UsageError(`${CA_ENV} is set but the queue URL is ${redactUrl(url)}; write rediss://… to connect with TLS, or unset ${CA_ENV}`);
  if (tls) {
    try {
      out.tls = ca ? { ca: readFileSync(ca) } : {};
    } catch (err) {
      throw new UsageError(`${CA_ENV}=${ca}: cannot read the CA file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a PEM file`);
    }
  }
  return out;
}
