# Inception-v3 FID/KID for the few-shot evaluation, from a LOCAL weight file
# (nothing is downloaded). Get pt_inception-2015-12-05-6726825d.pth (the
# pytorch-fid port of the TF FID Inception that mmagic uses) on a machine
# with internet access, e.g.
#   https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
# and copy it to checkpoints/ or point $METAGAN_INCEPTION at it. StyleGAN's
# TorchScript inception-2015-12-05.pt and torchvision's
# inception_v3_google-0cc3c7bd.pth work too. See docs/evaluation.md.
# yapf: disable  (the path is one string: flake8 wants it on one line)
inception_feature_net = dict(
    type='InceptionFeatureExtractor',
    weights='{{$METAGAN_INCEPTION:checkpoints/pt_inception-2015-12-05-6726825d.pth}}')  # noqa: E501
# yapf: enable

inception_metrics = [
    dict(
        type='FewShotFID',
        feature_net=inception_feature_net,
        prefix='fewshot_inception'),
    dict(
        type='FewShotKID',
        feature_net=inception_feature_net,
        prefix='fewshot_inception'),
]
# The few-shot test's evaluator (a plain list builds mmengine's Evaluator;
# mmagic's 'Evaluator' has another API).
test_evaluator = inception_metrics
