# Plain local-fusion GAN (the LoFGAN baseline) on LoFGAN's VGGFace array
# at 128x128 (a GPU config): LoFGAN's nets and widths (generator 32,
# discriminator 64), schedule (100k iterations, learning rates decaying to
# 0 over the second half) and few-shot evaluation (FID pooled over the
# unseen classes, LPIPS within a class; 128 generations per class, each
# from a random 3-shot set). Needs the array under $METAGAN_LOFGAN and the
# Inception and LPIPS weight files (docs/user_guides/fusion.md).
_base_ = [
    '../_base_/algorithms/fusion-lofgan.py',
    '../_base_/nets/local-fusion_128x128.py',
    '../_base_/datasets/vggface-npy_episodic_128x128.py'
]
model = dict(_base_.nets, num_classes=1802, fewshot_shots=3)
