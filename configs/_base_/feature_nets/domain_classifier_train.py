# Runner config of tools/train_feature_extractor.py: the domain feature
# network of the few-shot metrics (DomainFeatureExtractor), trained as a
# classifier of a (meta-)training config's META-TRAINING classes only, with
# a held-out fraction of their images for the reported accuracy. The tool
# fills in what comes from that config: `dataset` of the two data sets (its
# class data set), the extractor's num_classes / class_names / in_channels /
# img_size, and SaveFeatureNetHook's `out` (where the config's metrics read
# the network); --iters, --batch-size, --seed and --val-fraction override
# the values below. Pass a copy of this file with --net-config to change
# the network or the optimisation. See docs/evaluation.md.
default_scope = 'mmagic'
custom_imports = dict(imports=['metagan_mm'], allow_failed_imports=False)

model = dict(
    type='DomainClassifier',
    extractor=dict(
        type='DomainFeatureExtractor', channels=(32, 64, 128), feat_dim=128),
    shift=2,  # random translations of up to 2 pixels
    dropout=0.2,  # on the features
    # uint8 images to [-1, 1], as the meta-GAN's DataPreprocessor does
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[127.5], std=[127.5]))

seen_class_images = dict(
    type='SeenClassImageDataset', dataset=None, heldout_fraction=0.2, seed=0)
train_dataloader = dict(
    batch_size=64,
    num_workers=0,  # the images are in memory
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(seen_class_images, part='train'))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(seen_class_images, part='heldout'))
val_evaluator = dict(type='ClassifierAccuracy')

train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=400)
val_cfg = dict(type='ValLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-3))
param_scheduler = dict(
    type='OneCycleLR', eta_max=5e-3, total_steps=400, by_epoch=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=200,
        by_epoch=False,
        max_keep_ckpts=2,
        save_last=True))
custom_hooks = [dict(type='SaveFeatureNetHook', out=None)]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
log_level = 'INFO'
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False
