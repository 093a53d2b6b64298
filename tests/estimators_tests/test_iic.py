"""IIC: fit on real images, sub-heads, figures, export parity, the runtime on one image."""
import json
import os

from click.testing import CliRunner
import numpy
import pytest

from chainclust import datasets, IIC
from chainclust.cli import main
from chainclust.errors import ParameterError
from chainclust.models.iic import IICLoss, IICNet
from chainclust_export import export_onnx
from chainclust_runtime import Assigner

TINY = dict(n_clusters=4, n_subheads=2, overclustering=2, copies=2, epochs=2, batch_size=32,
            lr=1e-3, random_state=0)


@pytest.fixture(scope='module')
def mnist():
    return datasets.load('mnist').subset(96, random_state=0)


@pytest.fixture(scope='module')
def fitted(mnist, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('iic'))
    return IIC(out=out, **TINY).fit(mnist), out


def test_network_is_the_specified_trunk_and_heads():
    net = IICNet((28, 28), n_clusters=10, overclustering=5, n_subheads=3)
    assert [c.W.shape[0] for c in net.trunk.convs] == [32, 64, 128, 256]
    assert net.trunk.pooled_size == (3, 3)
    assert len(net.heads) == len(net.overheads) == 3
    assert [layer.W.shape for layer in net.heads[0]] == [(128, 256), (64, 128), (10, 64)]
    assert net.overheads[0][-1].W.shape == (50, 64)


def test_fit_gives_probabilities_labels_and_a_chosen_subhead(fitted, mnist):
    model, out = fitted
    proba = model.predict_proba(mnist.x)
    assert proba.shape == (96, 4)
    numpy.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    numpy.testing.assert_array_equal(proba.argmax(axis=1), model.labels_)
    assert model.transform(mnist.x).shape == (96, 256)
    assert model.augment_ == ('rotation', 'shear', 'scale', 'crop', 'stroke', 'binarize',
                              'noise', 'jitter')  # grey images in [0, 1]: no flip
    assert len(model.subhead_losses_) == 2
    assert int(model.net_.best_subhead) == int(numpy.argmin(model.subhead_losses_))
    with open(os.path.join(out, 'train', 'log')) as f:
        log = json.load(f)
    for key in ('main/loss', 'main/loss_cluster', 'main/loss_overcluster', 'main/cluster0',
                'main/cluster1', 'main/overcluster1', 'cluster/acc', 'cluster/nmi'):
        assert all(numpy.isfinite(entry[key]) for entry in log), key


def test_figures_are_written(fitted):
    _, out = fitted
    for name in ('clusters.png', 'overclusters.png', 'confusion.png',
                 os.path.join('train', 'joint', 'epoch002.png'),
                 os.path.join('train', 'metrics.png'), os.path.join('train', 'subheads.png')):
        assert os.path.getsize(os.path.join(out, name)) > 1000, name


def test_onnx_parity_at_batch_1_and_64_and_a_single_image(fitted, mnist, tmp_path):
    model, out = fitted
    path = str(tmp_path / 'iic.onnx')
    export_onnx(model, path)
    assigner = Assigner(path)
    assert assigner.score == 'proba' and assigner.n_clusters == 4
    for batch in (1, 64):
        x = mnist.x[:batch]
        numpy.testing.assert_allclose(assigner.predict_proba(x), model.predict_proba(x),
                                      atol=1e-5)
        numpy.testing.assert_allclose(assigner.transform(x), model.transform(x),
                                      rtol=1e-4, atol=1e-4)
        numpy.testing.assert_array_equal(assigner.predict(x), model.predict(x))
    numpy.testing.assert_array_equal(assigner.predict(mnist.x[5]), model.labels_[5:6])
    loaded = IIC.load(out)
    numpy.testing.assert_array_equal(loaded.predict(mnist.x), model.labels_)
    assert loaded.augment_ == model.augment_


def test_same_seed_same_model(mnist):
    first = IIC(**dict(TINY, epochs=1)).fit(mnist.x)
    second = IIC(**dict(TINY, epochs=1)).fit(mnist.x)
    numpy.testing.assert_array_equal(first.predict_proba(mnist.x), second.predict_proba(mnist.x))


def test_colour_images_get_flips_and_without_overclustering_one_head():
    x = numpy.random.RandomState(0).randint(0, 256, (40, 12, 10, 3)).astype(numpy.uint8)
    model = IIC(**dict(TINY, overclustering=0, epochs=1)).fit(x)
    assert 'flip' in model.augment_ and len(model.net_.overheads) == 0
    assert model.predict(x).shape == (40,)


@pytest.mark.parametrize('x, params, message', [
    (numpy.zeros((20, 30)), {}, 'IIC clusters images'),
    (numpy.zeros((20, 6, 6)), {}, 'at least 8x8 pixels, got 6x6'),
    (numpy.zeros((20, 8, 8)), {'augment': 'rotation,swirl'}, "unknown augmentation 'swirl'"),
    (numpy.random.RandomState(0).normal(size=(20, 8, 8)),
     {'augment': 'binarize', 'normalize': 'standard'},
     "augment=binarize needs images in \\[0, 1\\] after normalisation; with "
     "normalize='standard'"),
    (numpy.random.RandomState(0).normal(size=(20, 8, 8)),
     {'augment': 'rotation,stroke', 'normalize': 'standard'},
     "augment=stroke needs images in \\[0, 1\\]"),
    (numpy.zeros((20, 8, 8)), {'batch_size': 1}, 'batch_size must be >= 2'),
])
def test_bad_input_is_refused_with_a_message(x, params, message):
    with pytest.raises(ParameterError, match=message):
        IIC(**dict(TINY, **params)).fit(x)


def test_command_line_trains_iic(tmp_path):
    out = str(tmp_path / 'iic')
    result = CliRunner().invoke(main, ['train', 'iic', '--data', 'mnist', '--limit', '64',
                                       '-k', '3', '--epochs', '1', '--batch-size', '32',
                                       '--n-subheads', '1', '--augment', 'rotation,crop',
                                       '-o', out, '-q'])
    assert result.exit_code == 0, result.output
    assert IIC.load(out).augment_ == ('rotation', 'crop')


def test_standardised_images_get_no_stroke_binarisation_or_clipped_noise(mnist):
    model = IIC(**dict(TINY, epochs=1, normalize='standard')).fit(mnist.x)
    assert not {'stroke', 'binarize', 'noise'} & set(model.augment_)
    assert model.unit_range_ is False


def test_alpha_warmup_ramps_from_the_mutual_information(mnist, tmp_path):
    import json
    from chainclust.training.iic_monitor import AlphaWarmup
    ramp = AlphaWarmup(None, 10.0, 4)
    assert [ramp.value(i) for i in (0, 1, 2, 4, 9)] == [1.0, 3.25, 5.5, 10.0, 10.0]
    out = str(tmp_path / 'warm')
    model = IIC(out=out, **dict(TINY, alpha=10.0, alpha_warmup=1.0)).fit(mnist.x)
    with open(out + '/train/log') as f:
        alphas = [entry['main/alpha'] for entry in json.load(f)]
    per_epoch = len(mnist.x) // TINY['batch_size']
    # epoch 1: the mean of the ramp's values 1 + 9 i / per_epoch; epoch 2: the target
    assert alphas[0] == pytest.approx(1 + 9 * (per_epoch - 1) / 2.0 / per_epoch)
    assert alphas[1] == 10.0
    assert model.get_params()['alpha_warmup'] == 1.0


def test_alpha_delay_trains_at_the_mutual_information_first(mnist, tmp_path):
    import json
    from chainclust.training.iic_monitor import AlphaWarmup
    held = AlphaWarmup(None, 10.0, 2, delay=3)
    assert [held.value(i) for i in (0, 2, 3, 4, 5, 9)] == [1.0, 1.0, 1.0, 5.5, 10.0, 10.0]
    jump = AlphaWarmup(None, 10.0, 0, delay=3)
    assert [jump.value(i) for i in (0, 2, 3, 9)] == [1.0, 1.0, 10.0, 10.0]
    after_a_start = AlphaWarmup(None, 10.0, 0, delay=3, offset=2)  # continues a start
    assert [after_a_start.value(i) for i in (0, 1, 2)] == [1.0, 10.0, 10.0]
    out = str(tmp_path / 'delayed')
    IIC(out=out, **dict(TINY, alpha=10.0, alpha_delay=1.0)).fit(mnist.x)  # then a jump
    with open(out + '/train/log') as f:
        alphas = [entry['main/alpha'] for entry in json.load(f)]
    assert alphas == [1.0, 10.0]
    out = str(tmp_path / 'starts')  # one epoch per start at alpha = 1, then alpha
    IIC(out=out, **dict(TINY, alpha=10.0, alpha_delay=1.0, n_init=2, init_epochs=1)).fit(
        mnist.x)
    for phase, expected in (('start0', [1.0]), ('start1', [1.0]), ('train', [10.0])):
        with open(os.path.join(out, phase, 'log')) as f:
            assert [entry['main/alpha'] for entry in json.load(f)] == expected, phase


@pytest.mark.parametrize('transform_both', [False, True])
def test_the_first_view_is_the_original_or_its_own_transformation(mnist, transform_both):
    net = IICNet((28, 28), n_clusters=4, overclustering=2, n_subheads=1)
    net.normalize.scale[:] = 1 / 255.  # images in [0, 1], as the estimator's fit sets it
    seen = []
    trunk = net.trunk.forward
    net.trunk.forward = lambda h: seen.append(numpy.array(h)) or trunk(h)
    loss = IICLoss(net, lambda h, rs: h + rs.uniform(1, 2, (len(h), 1, 1, 1)).astype(h.dtype),
                   numpy.random.RandomState(0), copies=2, transform_both=transform_both)
    loss(mnist.x[:8].astype(numpy.float32))
    original = mnist.x[:8].reshape(8, 1, 28, 28) / 255.
    views, copies = seen[0][:8], seen[0][8:]
    shifts = (copies - numpy.concatenate([original] * 2)).max(axis=(1, 2, 3))
    assert numpy.all(shifts >= 1) and len(numpy.unique(shifts.round(5))) == 16
    if transform_both:  # a draw of its own, not one of its copies'
        first = (views - original).max(axis=(1, 2, 3))
        assert numpy.all(first >= 1) and not numpy.isin(first.round(5), shifts.round(5)).any()
    else:
        numpy.testing.assert_allclose(views, original, atol=1e-6)


def test_metrics_interval_evaluates_less_often_and_trains_the_same(mnist, tmp_path):
    sparse_out = str(tmp_path / 'sparse')
    sparse = IIC(out=sparse_out, **dict(TINY, epochs=3, metrics_interval=2)).fit(mnist)
    with open(os.path.join(sparse_out, 'train', 'log')) as f:
        log = json.load(f)
    assert [entry['epoch'] for entry in log if 'cluster/acc' in entry] == [2, 3]  # and the last
    every = IIC(**dict(TINY, epochs=3)).fit(mnist)
    numpy.testing.assert_array_equal(sparse.predict_proba(mnist.x), every.predict_proba(mnist.x))
