# Few-shot metrics for the glyph data set (32x32) with the domain feature
# network. Make the network first (meta-training classes only, ~1 CPU min;
# one network per data set, shared by every config that inherits this file):
#   python tools/train_feature_extractor.py \
#       configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py
# or point $METAGAN_FEATURE_NET at another file. See docs/evaluation.md.
# yapf: disable  (the path is one string: flake8 wants it on one line)
domain_feature_net = dict(
    type='DomainFeatureExtractor',
    checkpoint='{{$METAGAN_FEATURE_NET:work_dirs/feature_nets/glyphs_domain_32x32.pth}}')  # noqa: E501
# yapf: enable

fewshot_metrics = [
    dict(type='FewShotFID', feature_net=domain_feature_net),
    dict(
        type='FewShotKID',
        feature_net=domain_feature_net,
        num_subsets=100,
        subset_size=1000),
    dict(type='FewShotFidelity', feature_net=domain_feature_net),
    dict(type='FewShotDiversity', feature_net=domain_feature_net),
    dict(type='FewShotNovelty', feature_net=domain_feature_net),
    dict(type='FewShotMMagicMetric', metric=dict(type='SWD')),
    dict(type='FewShotMMagicMetric', metric=dict(type='MS_SSIM')),
]
# The few-shot test's evaluator (a plain list builds mmengine's Evaluator;
# mmagic's 'Evaluator' has another API).
test_evaluator = fewshot_metrics
