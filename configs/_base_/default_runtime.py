# Runtime, hooks, visualiser and loops shared by every metagan-mm config
# (each configs/_base_/datasets/ file inherits it, takes its test_evaluator
# from a metrics base in configs/_base_/feature_nets/ and sets the
# visualisation hook's data set).
default_scope = 'mmagic'
custom_imports = dict(imports=['metagan_mm'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # NCCL on GPU machines; metagan_mm.compat switches to gloo without CUDA.
    dist_cfg=dict(backend='nccl'))

# Meta-gradients are averaged by the model once per meta-iteration; the
# wrapper only broadcasts the initial weights (works on CPU and CUDA).
model_wrapper_cfg = dict(type='MetaDataParallel')

log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1000,
        by_epoch=False,
        max_keep_ckpts=3,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

# Leaves set max_iters (and checkpoint.interval) for their budget.
train_cfg = dict(type='MetaIterBasedTrainLoop')
# Few-shot test loop: for every unseen class, adapt a copy of the meta-model
# to its K conditioning images, generate num_samples images, and measure them
# against the class's real reference images (the test_evaluator of the data
# set base's metrics base).
test_cfg = dict(type='FewShotTestLoop', num_samples=64, seed=0)

randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False

# Shows the adapted generations of num_classes unseen classes (the data set
# base sets `dataset` to its unseen K-shot sets).
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        interval=1000,
        num_classes=4,
        num_samples=8),
]
