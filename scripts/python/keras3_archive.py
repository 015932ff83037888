"""Write a Keras 3 .keras archive holding the weights keras_parity.py saved, for tlrun's .keras tests.

Keras 3 builds the same keras.applications model, loads OUT/weights.h5 (Keras 2's save_weights
file) and saves OUT/model3.keras, so tlrun can check it reads a Keras 3 archive to the same output.

usage: KERAS_BACKEND=jax python keras3_archive.py ARCH SIZE OUT
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

BUILDERS = {
    "vgg16": lambda s: keras.applications.VGG16(include_top=False, weights=None, input_shape=s),
    "vgg19": lambda s: keras.applications.VGG19(include_top=False, weights=None, input_shape=s),
    "mobilenet_v2": lambda s: keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=s, alpha=1.0),
    "resnet50": lambda s: keras.applications.ResNet50(include_top=False, weights=None, input_shape=s),
    "densenet121": lambda s: keras.applications.DenseNet121(include_top=False, weights=None, input_shape=s),
}


def main():
    arch, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    model = BUILDERS[arch]((size, size, 3))
    model.load_weights(os.path.join(out, "weights.h5"))
    model.save(os.path.join(out, "model3.keras"))
    print(keras.__version__)


if __name__ == "__main__":
    main()
