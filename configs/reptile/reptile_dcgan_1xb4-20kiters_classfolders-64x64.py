# Reptile over mmagic's own DCGAN (BatchNorm) at 64x64 RGB on your classes
# as image folders ($METAGAN_CLASS_FOLDERS/<class>/*.png, default
# data/class_folders): 4 tasks of 4 images per meta-iteration, 5 inner Adam
# steps. Few-shot test: Inception FID/KID from a local weight file
# (configs/_base_/feature_nets/inception_offline.py).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_dcgan_64x64.py',
    '../_base_/datasets/class-folders_episodic_64x64.py',
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
