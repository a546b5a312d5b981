# LoFGAN's .npy arrays ([classes, images, 128, 128, 3], RGB) at their own
# size, with LoFGAN's protocol (its configs and main_metric.py). A data set
# base sets the file and the seen classes (npy_file, split.first_n) of both
# loaders. The folder is $METAGAN_LOFGAN (default data/lofgan).
# Training: tasks of 3 shots, 8 per iteration, 100k iterations (the
# learning-rate decay is algorithms/fusion-lofgan.py's).
# Test (tools/test.py): per unseen class a seeded pool of 10 images (the
# model's fewshot_shots=3 draws a random 3-shot set from it for each of the
# 128 generations) and the class's other images as real references; FID
# pooled over all unseen classes (Inception, local weights) and LPIPS
# within each class on 32x32 resizes (VGG, local weights).
_base_ = [
    './episodic.py', '../feature_nets/inception_offline.py',
    '../feature_nets/lpips_offline.py'
]
lofgan_npy = dict(
    type='NpyClassDataset',
    data_root='{{$METAGAN_LOFGAN:data/lofgan}}',
    pipeline=[dict(type='PackInputs', keys='img', data_keys=[])])

train_dataloader = dict(dataset=dict(k_shot=3, dataset=lofgan_npy))
train_cfg = dict(max_iters=100000)
default_hooks = dict(checkpoint=dict(interval=5000))

test_dataloader = dict(
    dataset=dict(
        _base_.unseen_fewshot_dataset,
        k_shot=10,
        dataset=dict(lofgan_npy, split_part='test')))
test_cfg = dict(num_samples=128, steps=0)
# replaces inception_offline.py's evaluator (a plain list builds mmengine's
# Evaluator; mmagic's 'Evaluator' has another API)
test_evaluator = [
    # pooled only: per-class FIDs of 2048-d features cost seconds each (552
    # VGGFace classes) and are strongly biased at ~30 references per class
    dict(
        type='FewShotFID',
        feature_net=_base_.inception_feature_net,
        per_class=False,
        prefix='fewshot_inception'),
    dict(
        type='FewShotLPIPS',
        feature_net=_base_.lpips_net,
        resize=32,
        lofgan_rescale=True),
]
# the grids show the test pools' first classes (the hook's default data set)
custom_hooks = [dict(_base_.custom_hooks[0], interval=5000)]
