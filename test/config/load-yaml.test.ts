import { test } from "node:test";
import assert from "node:assert/strict";
import { locateNode, parseYaml, toData } from "../../src/config/load-yaml";

const TEXT = ["name: x", "head:", "  layers:", "    - units: 64", "      dropout: 0.1", "  output: softmax", "train:", "  fine_tune:", ""].join("\n");

function at(path: string, atKey = false): string {
  const { source } = parseYaml(TEXT, "p.yaml");
  const loc = locateNode(source!, path ? path.split(".") : [], atKey);
  return loc ? `${loc.line}:${loc.col}` : "none";
}

test("locate points at values, keys for collections and empty values", () => {
  assert.equal(at("name"), "1:7");
  assert.equal(at("head.layers.0.units"), "4:14");
  assert.equal(at("head.layers.0.dropout", true), "5:7");
  assert.equal(at("head.layers"), "3:3");
  assert.equal(at("train.fine_tune"), "8:3");
});

test("locate falls back to the nearest existing ancestor", () => {
  assert.equal(at("head.layers.0.activation"), "4:7");
  assert.equal(at("head.layers.5.units"), "3:3");
  assert.equal(at("head.output.extra"), "6:11");
  assert.equal(at("nothing.here"), "1:1");
});

test("parse problems carry positions and a column offset for --set values", () => {
  const { problems } = parseYaml("!foo 3", "--set seed=!foo 3", 5);
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0]!.location, { file: "--set seed=!foo 3", line: 1, col: 6 });
});

test("plain tags are allowed and a small alias is fine", () => {
  const { source, problems } = parseYaml("a: !!str 3\nb: &x [1, 2]\nc: *x\n", "p.yaml");
  assert.deepEqual(problems, []);
  assert.deepEqual(toData(source!).data, { a: "3", b: [1, 2], c: [1, 2] });
});
