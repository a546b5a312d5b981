# Your own classes as image folders, read in colour (RGB) and resized to
# 64x64: <root>/<class>/*.{png,jpg,jpeg,bmp} (nested=True for
# <root>/<group>/<class>/*). The root is $METAGAN_CLASS_FOLDERS (default
# data/class_folders). A seeded 80/20 class split: the seen classes
# meta-train, the unseen ones are the few-shot test. Few-shot test: Inception
# FID/KID from a local weight file.
_base_ = ['./episodic.py', '../feature_nets/inception_offline.py']
class_folders_root = '{{$METAGAN_CLASS_FOLDERS:data/class_folders}}'
class_folders_split = dict(fractions=(0.8, 0.0, 0.2), seed=0)
class_folders_pipeline = [
    dict(
        type='LoadImageFromFile',
        key='img',
        color_type='color',
        channel_order='rgb'),
    dict(type='Resize', keys='img', scale=(64, 64), interpolation='area'),
    dict(type='PackInputs', keys='img', data_keys=[]),
]
class_folders = dict(
    type='ClassFolderDataset',
    data_root=class_folders_root,
    nested=False,
    split=class_folders_split,
    pipeline=class_folders_pipeline)

train_dataloader = dict(batch_size=4, dataset=dict(dataset=class_folders))

unseen_fewshot_dataset = dict(
    _base_.unseen_fewshot_dataset,
    dataset=dict(class_folders, split_part='test'))

test_dataloader = dict(dataset=unseen_fewshot_dataset)
custom_hooks = [dict(_base_.custom_hooks[0], dataset=unseen_fewshot_dataset)]
