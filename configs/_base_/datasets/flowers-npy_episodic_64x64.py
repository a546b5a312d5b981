# LoFGAN's Oxford flowers array (flower_c8189_s128_data_rgb.npy: uint8
# [classes, images, 128, 128, 3], RGB), resized to 64x64, with LoFGAN's
# protocol: the first 85 classes meta-train, the other 17 are the unseen
# few-shot test. The folder is $METAGAN_LOFGAN (default data/lofgan); any
# array of that layout works (set npy_file and split.first_n). Few-shot
# test: Inception FID/KID from a local weight file.
_base_ = ['./episodic.py', '../feature_nets/inception_offline.py']
flowers_root = '{{$METAGAN_LOFGAN:data/lofgan}}'
flowers_npy = 'flower_c8189_s128_data_rgb.npy'
flowers_split = dict(first_n=85)
flowers_pipeline = [
    dict(type='Resize', keys='img', scale=(64, 64), interpolation='area'),
    dict(type='PackInputs', keys='img', data_keys=[]),
]
flowers = dict(
    type='NpyClassDataset',
    data_root=flowers_root,
    npy_file=flowers_npy,
    split=flowers_split,
    pipeline=flowers_pipeline)

train_dataloader = dict(batch_size=4, dataset=dict(dataset=flowers))

unseen_fewshot_dataset = dict(
    _base_.unseen_fewshot_dataset, dataset=dict(flowers, split_part='test'))

test_dataloader = dict(dataset=unseen_fewshot_dataset)
custom_hooks = [dict(_base_.custom_hooks[0], dataset=unseen_fewshot_dataset)]
