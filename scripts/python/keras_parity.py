"""Build a keras.applications model with random weights, save its .h5 files, run it on a seeded input.

Used by tlrun's parity tests: tlrun loads the .h5 into its own architecture and must reproduce the
output. Writes into OUT: weights.h5 (save_weights layout: root attrs layer_names/weight_names),
model.h5 (full-model layout: a model_weights group), model.keras (the zip archive), input.bin and output.bin (float32, C order),
and meta.json with their shapes.

usage: python keras_parity.py ARCH SIZE OUT [SEED]
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BUILDERS = {
    "vgg16": lambda s: tf.keras.applications.VGG16(include_top=False, weights=None, input_shape=s),
    "vgg19": lambda s: tf.keras.applications.VGG19(include_top=False, weights=None, input_shape=s),
    "mobilenet_v2": lambda s: tf.keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=s, alpha=1.0),
    "resnet50": lambda s: tf.keras.applications.ResNet50(include_top=False, weights=None, input_shape=s),
    "densenet121": lambda s: tf.keras.applications.DenseNet121(include_top=False, weights=None, input_shape=s),
}


def randomize(model, rng):
    """Random weights everywhere, including BatchNorm statistics, so every weight matters."""
    for layer in model.layers:
        new = []
        for w in layer.weights:
            shape = tuple(w.shape)
            if "moving_variance" in w.name:
                new.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            elif "gamma" in w.name:
                new.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                new.append((rng.standard_normal(shape) * np.sqrt(1.0 / max(fan_in, 1))).astype("float32"))
        if new:
            layer.set_weights(new)


def main():
    arch, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    model = BUILDERS[arch]((size, size, 3))
    randomize(model, rng)
    model.save_weights(os.path.join(out, "weights.h5"))
    model.save(os.path.join(out, "model.h5"))
    model.save(os.path.join(out, "model.keras"))
    x = rng.uniform(-1, 1, (2, size, size, 3)).astype("float32")
    y = model.predict(x, verbose=0).astype("float32")
    x.tofile(os.path.join(out, "input.bin"))
    y.tofile(os.path.join(out, "output.bin"))
    meta = {"arch": arch, "input_shape": list(x.shape), "output_shape": list(y.shape), "tf": tf.__version__,
            "layers": [l.name for l in model.layers]}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
