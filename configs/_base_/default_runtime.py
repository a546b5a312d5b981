# Runtime shared by every metagan-mm config.
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
        interval=100,
        by_epoch=False,
        max_keep_ckpts=3,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False
