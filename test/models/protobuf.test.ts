/**
 * The protobuf writer (src/models/protobuf.ts) that native-graph.ts uses to load a compiled
 * training step as a SavedModel: the bytes must parse with tfjs-node's own protobuf classes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { graphDef, savedModel, type NodeDef } from "../../src/models/protobuf";

test("the SavedModel bytes parse with tfjs-node's protobuf classes and say what was written", () => {
  const nodes: NodeDef[] = [
    { name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: 1 }, shape: { shape: [-1, 3] } } },
    { name: "n0", op: "Relu", inputs: ["x"], attrs: { T: { type: 1 }, axis: { list: { i: [-1, 2] } }, alpha: { f: 0.5 } } },
  ];
  const bytes = savedModel(graphDef(nodes, 1087), ["serve"], "serving_default", { x: { name: "x:0", dtype: 1, shape: [-1, 3] } }, { y0: { name: "n0:0", dtype: 1, shape: [-1, 3] } });
  const pb = require("@tensorflow/tfjs-node/dist/proto/api_pb") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sm = pb.SavedModel.deserializeBinary(new Uint8Array(bytes));
  assert.equal(sm.getSavedModelSchemaVersion(), 1);
  const mg = sm.getMetaGraphsList()[0];
  assert.deepEqual(mg.getMetaInfoDef().getTagsList(), ["serve"]);
  const graph = mg.getGraphDef();
  assert.equal(graph.getVersions().getProducer(), 1087);
  const [x, relu] = graph.getNodeList();
  assert.equal(x.getOp(), "Placeholder");
  assert.deepEqual(x.getAttrMap().get("shape").getShape().getDimList().map((d: { getSize(): number }) => d.getSize()), [-1, 3]);
  assert.deepEqual(relu.getInputList(), ["x"]);
  assert.deepEqual(relu.getAttrMap().get("axis").getList().getIList(), [-1, 2]);
  assert.equal(relu.getAttrMap().get("alpha").getF(), 0.5);
  const sig = mg.getSignatureDefMap().get("serving_default");
  assert.equal(sig.getInputsMap().get("x").getName(), "x:0");
  assert.equal(sig.getOutputsMap().get("y0").getName(), "n0:0");
});
