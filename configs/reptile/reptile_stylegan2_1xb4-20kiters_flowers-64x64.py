# Reptile over mmagic's own StyleGAN2 at 64x64 RGB on LoFGAN's flowers array
# ($METAGAN_LOFGAN/flower_c8189_s128_data_rgb.npy, default data/lofgan;
# first 85 classes seen, 17 unseen): 4 tasks of 4 images per meta-iteration,
# 5 inner Adam steps. A GPU config: StyleGAN2's 512-channel convolutions make
# a meta-iteration take minutes on a CPU (README, "Meta-learn the GAN of your
# mmagic project"). Few-shot test: Inception FID/KID from a local weight file.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_stylegan2_64x64.py',
    '../_base_/datasets/flowers-npy_episodic_64x64.py',
    '../_base_/feature_nets/inception_offline.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.inception_metrics}}

train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=20000)
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=1000,
        num_classes=4,
        num_samples=8),
]
