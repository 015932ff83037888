#!/usr/bin/env node
"use strict";
// `tlrun models | head` closes the pipe early; that is not an error.
process.stdout.on("error", (err) => {
  if (err && err.code === "EPIPE") process.exit(0);
  throw err;
});
require("../dist/src/cli/main.js").main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 70; }
);
