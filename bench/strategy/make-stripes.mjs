// Builds the "stripes" texture dataset of docs/strategy.md: node bench/strategy/make-stripes.mjs <dest> [per-class]
import { stripesDataset } from "../../dist/test/fixtures/synthetic-images.js";
const [dest, perClass = "300"] = process.argv.slice(2);
if (!dest) throw new Error("usage: node bench/strategy/make-stripes.mjs <dest> [per-class]");
await stripesDataset(dest, Number(perClass), 1);
console.log(`wrote ${dest}`);
