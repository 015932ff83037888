/**
 * Reaching the queue's Redis: a wrong URL, password or certificate ends the command with a
 * one-line reason and what to do about it, within seconds, and with the password redacted.
 */
import { UsageError } from "../errors";
import { requireExtra } from "../util/extras";
import type { IORedisModule, RedisClient } from "./queue-api";
import { CA_ENV, connectOptions, PASSWORD_ENV, redactText } from "./redis-url";

/**
 * A Redis connection for BullMQ from `redis[s]://[user:pass@]host:port[/db]`, with the password
 * from TLRUN_REDIS_PASSWORD and the CA from TLRUN_REDIS_CA when given (redis-url.ts); bullmq and
 * ioredis are installed on first use.
 */
export function connect(url: string): RedisClient {
  const options = connectOptions(url);
  const { Redis } = requireExtra<IORedisModule>("ioredis");
  const conn = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
  // Connection errors are retried by ioredis and reported by ping() or BullMQ; never as a stack.
  conn.on("error", () => undefined);
  return conn;
}

/** Errors that retrying will not cure: a wrong or missing password, a certificate not trusted. */
const FATAL = /WRONGPASS|NOAUTH|invalid password|invalid username|certificate|self[- ]signed|SSL|TLS|EPROTO/i;

/** What to do about a connection error, for the message that ends the command. */
function advice(message: string, url: string): string {
  if (/NOAUTH/i.test(message)) return `the server needs a password: write redis://:PASSWORD@host:port, or set ${PASSWORD_ENV}`;
  if (/WRONGPASS|invalid password|invalid username/i.test(message)) return `the server refused the password: check the one in the URL or in ${PASSWORD_ENV}`;
  if (/certificate|self[- ]signed/i.test(message)) return `the server's TLS certificate is not trusted: set ${CA_ENV} to the PEM file of the CA that signed it`;
  if (/SSL|TLS|EPROTO/i.test(message)) return "TLS failed: use rediss:// only for a server's TLS port, and redis:// for its plain port";
  if (/^rediss:/i.test(url) && /no answer/.test(message)) return "no TLS answer: is this the server's --tls-port? (redis:// is for its plain port)";
  return "start it (e.g. 'redis-server --port 6379') or pass another --queue URL";
}

/** Check the server answers before anything is enqueued, with a message that says what to do; never hangs past 5 s. */
export async function ping(conn: RedisClient, url: string): Promise<void> {
  let last: Error | undefined;
  let onError: (err: Error) => void = () => undefined;
  const fatal = new Promise<never>((_, reject) => {
    onError = (err) => void ((last = err), FATAL.test(err.message) && reject(err));
    conn.on("error", onError);
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(last ?? new Error("no answer in 5 s")), 5000).unref());
  try {
    await Promise.race([conn.ping(), fatal, timeout]);
  } catch (err) {
    conn.disconnect();
    const message = (err as Error).message;
    const verb = /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message) ? "cannot use" : "cannot reach";
    throw new UsageError(redactText(`${verb} Redis at ${url} (${message}); ${advice(message, url)}`, url));
  } finally {
    conn.off("error", onError);
  }
}
