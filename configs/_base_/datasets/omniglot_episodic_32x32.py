# Omniglot at 32x32 (FIGR's setting), read in the data set's own layout
# (images_background/<Alphabet>/<character>/*.png). Meta-train on four
# alphabets, keep Tagalog and Early_Aramaic unseen. The root is
# $METAGAN_OMNIGLOT (default data/omniglot). For the full data set,
# list the 30 background alphabets under `train` and use images_evaluation.
_base_ = ['./episodic.py', '../feature_nets/omniglot_domain_32x32.py']
omniglot_root = '{{$METAGAN_OMNIGLOT:data/omniglot}}'
omniglot_split = dict(
    train=['Balinese', 'Greek', 'Japanese_(katakana)', 'Latin'],
    test=['Tagalog', 'Early_Aramaic'])
omniglot_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
    dict(type='Resize', keys='img', scale=(32, 32), interpolation='area'),
    dict(type='PackInputs', keys='img', data_keys=[]),
]
omniglot_classes = dict(
    type='OmniglotDataset',
    data_root=omniglot_root,
    split=omniglot_split,
    pipeline=omniglot_pipeline)

train_dataloader = dict(dataset=dict(dataset=omniglot_classes))

unseen_fewshot_dataset = dict(
    _base_.unseen_fewshot_dataset,
    dataset=dict(omniglot_classes, split_part='test'))

# Few-shot evaluation over the unseen alphabets (LoFGAN protocol).
test_dataloader = dict(dataset=unseen_fewshot_dataset)
custom_hooks = [
    dict(
        _base_.custom_hooks[0], dataset=unseen_fewshot_dataset, num_classes=6)
]
