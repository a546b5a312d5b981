# Few-shot metrics for Omniglot (32x32) with the domain feature network:
# glyphs_domain_32x32.py's metrics on Omniglot's own network. Make the
# network first (meta-training alphabets only; one network per data set,
# shared by every config that inherits this file):
#   python tools/train_feature_extractor.py \
#       configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py
# or point $METAGAN_FEATURE_NET at another file. See docs/evaluation.md.
_base_ = ['./glyphs_domain_32x32.py']
# yapf: disable  (the path is one string: flake8 wants it on one line)
domain_feature_net = dict(
    type='DomainFeatureExtractor',
    checkpoint='{{$METAGAN_FEATURE_NET:work_dirs/feature_nets/omniglot_domain_32x32.pth}}')  # noqa: E501
# yapf: enable

fewshot_metrics = [
    dict(m, feature_net=domain_feature_net) if 'feature_net' in m else dict(m)
    for m in _base_.fewshot_metrics
]
# the inherited test_evaluator measures with the glyph network: replace it
test_evaluator = fewshot_metrics
