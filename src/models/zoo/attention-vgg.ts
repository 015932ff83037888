/**
 * attention_vgg16: keras.applications.VGG16 (same layers, same ImageNet weights) whose features
 * are pooled by a trainable spatial attention module instead of plain global pooling, after
 * Jetley et al. 2018 ("Learn to pay attention") and Schlemper et al. 2019 (attention-gated
 * networks for medical images).
 *
 * The attention lives in the head (src/training/attention-head.ts), not in the base: the base
 * is frozen while the head trains on cached features, so attention layers in the base would
 * never train in the head phase. For this architecture the extract stage caches the whole
 * feature map at the cut (7x7x512 at 224 px for block5_pool, 14x14x512 for block5_conv3)
 * instead of pooled vectors, and the head computes the attention map from it.
 */
export const ATTENTION_ARCHITECTURES: readonly string[] = ["attention_vgg16"];
