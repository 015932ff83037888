import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";

/** What the server does with one request; the default serves the file, honouring Range. */
export type Behaviour = "serve" | "503" | "404" | "html" | { cutAfter: number } | { stallAfter: number };

export interface TestServer {
  url(path: string): string;
  /** Requests received, with their Range header. */
  requests: Array<{ path: string; range?: string }>;
  /** Behaviours for the next requests, used up in order; then "serve". */
  script: Behaviour[];
}

/** A real HTTP server on 127.0.0.1 serving `files` (path -> bytes), closed when the test ends. */
export async function serveFiles(t: TestContext, files: Record<string, Uint8Array>): Promise<TestServer> {
  const state: TestServer = { url: () => "", requests: [], script: [] };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    state.requests.push({ path, range: req.headers.range });
    const behaviour = state.script.shift() ?? "serve";
    const body = files[path];
    if (behaviour === "503") return void res.writeHead(503).end("busy");
    if (behaviour === "html") return void res.writeHead(200, { "content-type": "text/html" }).end("<html>sign in</html>");
    if (behaviour === "404" || !body) return void res.writeHead(404).end("not found");
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    if (start > body.byteLength) return void res.writeHead(416).end();
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, { "content-length": part.byteLength, "content-type": "application/octet-stream" });
    if (typeof behaviour === "object" && "stallAfter" in behaviour) {
      res.write(part.subarray(0, behaviour.stallAfter)); // then nothing more, connection left open
      return;
    }
    if (typeof behaviour === "object") {
      res.write(part.subarray(0, behaviour.cutAfter), () => res.destroy());
      return;
    }
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  state.url = (path) => `http://127.0.0.1:${port}${path}`;
  t.after(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  }));
  return state;
}
