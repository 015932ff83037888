"""Build a keras.applications model with random weights, save its .h5 files, run it on a seeded input.

Used by tlrun's parity tests: tlrun loads the .h5 into its own architecture and must reproduce the
output. Writes into OUT: weights.h5 (save_weights layout: root attrs layer_names/weight_names),
model.h5 (full-model layout: a model_weights group), model.keras (the zip archive), input.bin and output.bin (float32, C order),
and meta.json with their shapes.

usage: python keras_parity.py ARCH SIZE OUT [SEED] [--names-from-1]

--names-from-1 names unnamed layers as Keras 2.0 did, from 1 (conv2d_1 …), as in the official
InceptionV3, Xception and InceptionResNetV2 files, which Keras loads by order, not by name.
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
    "densenet169": lambda s: tf.keras.applications.DenseNet169(include_top=False, weights=None, input_shape=s),
    "densenet201": lambda s: tf.keras.applications.DenseNet201(include_top=False, weights=None, input_shape=s),
    "resnet101": lambda s: tf.keras.applications.ResNet101(include_top=False, weights=None, input_shape=s),
    "resnet152": lambda s: tf.keras.applications.ResNet152(include_top=False, weights=None, input_shape=s),
    "resnet50_v2": lambda s: tf.keras.applications.ResNet50V2(include_top=False, weights=None, input_shape=s),
    "resnet101_v2": lambda s: tf.keras.applications.ResNet101V2(include_top=False, weights=None, input_shape=s),
    "resnet152_v2": lambda s: tf.keras.applications.ResNet152V2(include_top=False, weights=None, input_shape=s),
    "mobilenet": lambda s: tf.keras.applications.MobileNet(include_top=False, weights=None, input_shape=s, alpha=1.0),
    "inception_v3": lambda s: tf.keras.applications.InceptionV3(include_top=False, weights=None, input_shape=s),
    "xception": lambda s: tf.keras.applications.Xception(include_top=False, weights=None, input_shape=s),
    "inception_resnet_v2": lambda s: tf.keras.applications.InceptionResNetV2(include_top=False, weights=None, input_shape=s),
    "nasnet_mobile": lambda s: tf.keras.applications.NASNetMobile(include_top=False, weights=None, input_shape=s),
    "efficientnet_b0": lambda s: imagenet_layout(tf.keras.applications.EfficientNetB0, s),
    "efficientnet_b1": lambda s: imagenet_layout(tf.keras.applications.EfficientNetB1, s),
    "efficientnet_b2": lambda s: imagenet_layout(tf.keras.applications.EfficientNetB2, s),
    "efficientnet_b3": lambda s: imagenet_layout(tf.keras.applications.EfficientNetB3, s),
}


def imagenet_layout(builder, shape):
    """The model as built with weights="imagenet" (EfficientNet then adds a second Rescaling), without
    downloading anything: Keras' get_file is pointed at a same-layout weights file saved first."""
    from keras.src.applications import efficientnet

    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tlrun-parity-%d.h5" % os.getpid())
    builder(include_top=False, weights=None, input_shape=shape).save_weights(path)
    tf.keras.backend.clear_session()  # so the model below gets a fresh session's layer names
    real = efficientnet.data_utils.get_file
    efficientnet.data_utils.get_file = lambda *a, **k: path
    try:
        return builder(include_top=False, weights="imagenet", input_shape=shape)
    finally:
        efficientnet.data_utils.get_file = real
        os.remove(path)


def randomize(model, rng, offset_std=1.0):
    """Random weights everywhere, including BatchNorm and Normalization statistics, so every weight matters.

    Kernels are He-scaled by their true fan-in (a depthwise kernel's is its window, not window x
    channels) so the signal survives the depth and the output depends on the input (main() checks).
    Offsets (biases, BatchNorm beta and moving mean, Normalization's mean) are N(0, offset_std).
    EfficientNet gets 0.2: with 1 its swish, SE gates and residual sums grow activations to ~1e4,
    where float32 rounding differences between TensorFlow and tfjs compound past the tolerance.
    """
    for layer in model.layers:
        new = []
        for w in layer.weights:
            shape = tuple(w.shape)
            if w.dtype not in (tf.float32, "float32"):  # Normalization's sample count (int64)
                new.append(np.array(rng.integers(1, 1000), dtype=w.dtype.as_numpy_dtype))
            elif "moving_variance" in w.name or "/variance" in w.name:
                new.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            elif "gamma" in w.name:
                new.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                if "depthwise_kernel" in w.name:
                    scale = np.sqrt(2.0 / (shape[0] * shape[1]))
                elif len(shape) > 1:
                    scale = np.sqrt(2.0 / int(np.prod(shape[:-1])))
                else:
                    scale = offset_std
                new.append((rng.standard_normal(shape) * scale).astype("float32"))
        if new:
            layer.set_weights(new)


def main():
    args = [a for a in sys.argv[1:] if a != "--names-from-1"]
    arch, size, out = args[0], int(args[1]), args[2]
    seed = int(args[3]) if len(args) > 3 else 0
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    if "--names-from-1" in sys.argv:
        # each class's first automatic name is taken, so the model's start at _1
        L = tf.keras.layers
        taken = [L.Conv2D(1, 1), L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(), L.AveragePooling2D(), L.Concatenate(), L.Add()]
        assert taken[0].name == "conv2d"
    model = BUILDERS[arch]((size, size, 3))
    randomize(model, rng, offset_std=0.2 if arch.startswith("efficientnet") else 1.0)
    model.save_weights(os.path.join(out, "weights.h5"))
    model.save(os.path.join(out, "model.h5"))
    model.save(os.path.join(out, "model.keras"))
    # EfficientNet takes raw pixels and rescales inside; the others get preprocessed-scale input
    low, high = (0, 255) if arch.startswith("efficientnet") else (-1, 1)
    x = rng.uniform(low, high, (2, size, size, 3)).astype("float32")
    y = model.predict(x, verbose=0).astype("float32")
    # how much the output moves when the input is scaled by 1.2: an error in an early layer only
    # shows in the comparison if this is well above its tolerance
    sensitivity = float(np.abs(model.predict(x * 1.2, verbose=0) - y).max() / np.abs(y).max())
    x.tofile(os.path.join(out, "input.bin"))
    y.tofile(os.path.join(out, "output.bin"))
    meta = {"arch": arch, "input_shape": list(x.shape), "output_shape": list(y.shape), "tf": tf.__version__, "input_sensitivity": sensitivity,
            "layers": [l.name for l in model.layers]}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
