"""Keras half of the tlrun benchmark: the same MobileNetV2 weights, the same batches.

A long-lived worker: reads one JSON command per stdin line and answers with one
``BENCH_RESULT {...}`` line, so the orchestrator can interleave it with the tlrun workers.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tlrun's default (src/backend/select.ts): TensorFlow turns oneDNN on by itself only on CPUs with
# AVX-512 VNNI/BF16/AMX, so without this the two sides could run different kernels
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BATCH = 32
FT = {"size": 128, "freeze_at": "block_13_expand", "images": 256, "classes": 9}
_bases = {}
_weights = None


def emit(obj):
    sys.stdout.write("BENCH_RESULT " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def load_weights(wdir):
    global _weights
    if _weights is None:
        index = json.load(open(os.path.join(wdir, "weights.json")))
        flat = np.fromfile(os.path.join(wdir, "weights.bin"), dtype="<f4")
        _weights = {
            e["layer"]: [flat[w["offset"]:w["offset"] + int(np.prod(w["shape"]))].reshape(w["shape"]) for w in e["weights"]]
            for e in index
        }
    return _weights


def base_for(size, wdir):
    """keras.applications.MobileNetV2 without top, weights assigned by layer name from tlrun."""
    if size not in _bases:
        base = tf.keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(size, size, 3))
        weights = load_weights(wdir)
        assigned = 0
        for layer in base.layers:
            if layer.weights:
                layer.set_weights(weights[layer.name])
                assigned += 1
        if assigned != len(weights):
            raise RuntimeError(f"assigned {assigned} layers, tlrun exported {len(weights)}")
        _bases[size] = base
    return _bases[size]


_extractors = {}


def extractor(size, wdir):
    if size not in _extractors:
        base = base_for(size, wdir)
        _extractors[size] = tf.keras.Model(base.input, tf.keras.layers.GlobalAveragePooling2D()(base.output))
    return _extractors[size]


def verify_input(size, wdir):
    x = np.fromfile(os.path.join(wdir, f"verify-{size}.in.f32"), dtype="<f4")
    return x.reshape(-1, size, size, 3)


def cmd_extract(c):
    size, wdir, batches = c["size"], c["dir"], c.get("batches", 3)
    m = extractor(size, wdir)
    x = np.concatenate([verify_input(size, wdir)] * batches)[: batches * BATCH]
    for _ in range(c.get("warmup", 1)):
        m.predict(x[:BATCH], batch_size=BATCH, verbose=0)
    t0 = time.perf_counter()
    m.predict(x, batch_size=BATCH, verbose=0)
    secs = time.perf_counter() - t0
    return {"img_per_s": len(x) / secs, "seconds": secs, "images": len(x)}


def cmd_verify(c):
    size, wdir = c["size"], c["dir"]
    x = verify_input(size, wdir)
    ours = extractor(size, wdir).predict(x, batch_size=BATCH, verbose=0)
    theirs = np.fromfile(os.path.join(wdir, f"verify-{size}.tlrun.f32"), dtype="<f4").reshape(ours.shape)
    diff = np.abs(ours - theirs)
    return {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()),
            "max_abs_value": float(np.abs(ours).max()), "argmax_agree": float((ours.argmax(1) == theirs.argmax(1)).mean())}


def cmd_export_savedmodel(c):
    """The extractor as a frozen-graph TF1 SavedModel that libtensorflow 2.9 (tfjs-node) can load."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    size, out = c["size"], c["out"]
    m = extractor(size, c["dir"])
    fn = tf.function(lambda x: m(x, training=False)).get_concrete_function(tf.TensorSpec([None, size, size, 3], tf.float32))
    frozen = convert_variables_to_constants_v2(fn)
    graph_def = frozen.graph.as_graph_def()
    with tf.Graph().as_default() as g:
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as s:
            sig = tf.compat.v1.saved_model.predict_signature_def(
                {"x": g.get_tensor_by_name(frozen.inputs[0].name)}, {"features": g.get_tensor_by_name(frozen.outputs[0].name)})
            b = tf.compat.v1.saved_model.Builder(out)
            b.add_meta_graph_and_variables(s, ["serve"], signature_def_map={"serving_default": sig})
            b.save()
    return {"saved_model": out}


def top_from(base, first):
    """Re-apply the layers from `first` to the end on a new Input at the frontier (no residual crosses it)."""
    names = [l.name for l in base.layers]
    i0 = names.index(first)
    src = base.layers[i0].inbound_nodes[0].inbound_layers
    inp = tf.keras.Input(shape=src.output.shape[1:])
    out = {src.name: inp}
    for layer in base.layers[i0:]:
        ins = layer.inbound_nodes[0].inbound_layers
        ins = ins if isinstance(ins, list) else [ins]
        args = [out[x.name] for x in ins]
        out[layer.name] = layer(args[0] if len(args) == 1 else args)
    return src.name, tf.keras.Model(inp, out[base.layers[-1].name])


_ft = {}


def ft_model(cached, wdir):
    key = "cached" if cached else "full"
    if key in _ft:
        return _ft[key]
    size = FT["size"]
    base = tf.keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(size, size, 3))
    for layer in base.layers:
        if layer.weights:
            layer.set_weights(load_weights(wdir)[layer.name])
    first = [l.name for l in base.layers].index(FT["freeze_at"])
    for i, layer in enumerate(base.layers):
        # Frozen below the fine-tune point; BatchNorm stays frozen (inference mode) everywhere, as in tlrun.
        layer.trainable = i >= first and not isinstance(layer, tf.keras.layers.BatchNormalization)
    x = verify_input(size, wdir)
    x = np.concatenate([x] * (FT["images"] // len(x)))
    y = tf.keras.utils.to_categorical(np.arange(FT["images"]) % FT["classes"], FT["classes"])
    if cached:
        frontier, top = top_from(base, FT["freeze_at"])
        bottom = tf.keras.Model(base.input, base.get_layer(frontier).output)
        x = bottom.predict(x, batch_size=BATCH, verbose=0)
        body = top
    else:
        body = base
    out = tf.keras.layers.Dense(FT["classes"], activation="softmax")(tf.keras.layers.GlobalAveragePooling2D()(body.output))
    model = tf.keras.Model(body.input, out)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="categorical_crossentropy")
    _ft[key] = (model, x, y, len(model.trainable_weights))
    return _ft[key]


class StepTimer(tf.keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def cmd_finetune(c):
    model, x, y, ntrain = ft_model(bool(c.get("cached")), c["dir"])
    steps = c.get("steps", 8)
    reps = int(np.ceil(steps * BATCH / len(x)))
    xs, ys = np.concatenate([x] * reps)[: steps * BATCH], np.concatenate([y] * reps)[: steps * BATCH]
    timer = StepTimer()
    model.fit(xs, ys, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    secs = timer.ends[-1] - timer.ends[0]
    return {"steps_per_s": (len(timer.ends) - 1) / secs, "steps": len(timer.ends) - 1, "trainable_variables": ntrain}


def main():
    emit({"ready": True, "tensorflow": tf.__version__, "keras": tf.keras.__version__,
          "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")})
    for line in sys.stdin:
        if not line.strip():
            continue
        c = json.loads(line)
        if c["cmd"] == "exit":
            break
        try:
            emit({"ok": True, **globals()["cmd_" + c["cmd"]](c)})
        except Exception as e:  # report and keep serving
            emit({"ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
