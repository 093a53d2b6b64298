"""The ClusteringNet protocol, and a whole third method written against the contract.

``AEKMeans`` below is what a new method adds: a network (preprocess/encode/
assign_embedded), an estimator (parameters, ``_build_net``, ``_train`` as
phases) and a registry entry. The command line, save/load, evaluate, ONNX
export and the runtime then work for it without any code of their own.
"""
import chainer
import chainer.functions as F
import numpy
import pytest
from click.testing import CliRunner
from sklearn.cluster import KMeans

from chainclust import datasets
from chainclust.estimators.base import ClusteringEstimator, non_negative_int, positive_int
from chainclust.inference import batched_forward
from chainclust.links import MLP
from chainclust.models import ClusteringNet, image_layout, MLPAutoencoder
from chainclust.models import ReconstructionLoss
from chainclust.training import Phase
from chainclust_export import export_onnx, function_model


@pytest.mark.parametrize('shape,stored,axes', [
    ((5, 6), (1, 5, 6), (0, 1, 2, 3)),
    ((5, 6, 3), (5, 6, 3), (0, 3, 1, 2)),
    ((3, 5, 6), (3, 5, 6), (0, 1, 2, 3)),
    ((4, 4, 1), (4, 4, 1), (0, 3, 1, 2)),
])
def test_image_layout(shape, stored, axes):
    assert image_layout(shape) == (stored, axes)


@pytest.mark.parametrize('shape', [(10,), (5, 6, 7), (2, 3, 4, 5), (1, 6)])
def test_image_layout_rejects_non_images(shape):
    with pytest.raises(ValueError, match='not images'):
        image_layout(shape)


class _Conv(ClusteringNet):
    score = 'proba'

    def __init__(self, sample_shape):
        super(_Conv, self).__init__(sample_shape, layout='image')
        with self.init_scope():
            self.conv = chainer.links.Convolution2D(None, 2, 3, pad=1)

    def encode(self, h):
        return F.reshape(self.conv(h), (h.shape[0], -1))

    def assign_embedded(self, z):
        return F.softmax(z)


@pytest.mark.parametrize('shape,to_nchw', [
    ((6, 5), lambda x: x[:, None]),
    ((6, 5, 3), lambda x: x.transpose(0, 3, 1, 2)),  # channels last, as users store images
    ((3, 6, 5), lambda x: x),
])
def test_preprocess_gives_nchw_images_and_exports(shape, to_nchw):
    x = numpy.random.RandomState(0).randint(0, 256, (13,) + shape).astype(numpy.uint8)
    net = _Conv(shape)
    net.normalize.fit(x)
    h = net.preprocess(x.astype(numpy.float32)).array
    numpy.testing.assert_allclose(h, to_nchw(x / 255.0), rtol=1e-6)
    assert h.shape == (13, 3 if len(shape) == 3 else 1, 6, 5)
    import onnxruntime
    model = function_model(net.embed, x.astype(numpy.float32), link=net)
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=['CPUExecutionProvider'])
    for batch in (1, 13):
        got, = session.run(None, {'input': x[:batch].astype(numpy.float32)})
        numpy.testing.assert_allclose(got, net.embed(x[:batch].astype(numpy.float32)).array,
                                      atol=1e-5)


# -- a third method, as small as the contract allows ----------------------
class AEKMeansNet(ClusteringNet):
    """An autoencoder's code and k-means centres; score: squared distances."""

    score = 'distance'

    def __init__(self, sample_shape, hidden, code_dim, n_clusters, rng=None):
        super(AEKMeansNet, self).__init__(sample_shape)
        with self.init_scope():
            self.autoencoder = MLPAutoencoder(
                (self.n_features,) + tuple(hidden) + (code_dim,),
                initialW=chainer.initializers.LeCunNormal(rng=rng))
            self.centres = chainer.Parameter(numpy.zeros((n_clusters, code_dim), 'f'))

    def encode(self, h):
        return self.autoencoder.encode(h)

    def assign_embedded(self, z):
        diff = F.reshape(z, (z.shape[0], 1, -1)) - self.centres  # (N, K, d)
        return F.sum(diff * diff, axis=2)


class AEKMeans(ClusteringEstimator):
    """Autoencoder + k-means (a test method).

    Args:
        n_clusters (int): K.
        hidden_dims (tuple of int): encoder hidden widths.
        code_dim (int): code size.
        epochs (int): autoencoder epochs.
    """

    method = 'aekmeans'
    _parameter_constraints = dict(ClusteringEstimator._parameter_constraints,
                                  hidden_dims=[tuple, list], code_dim=positive_int(),
                                  epochs=non_negative_int())

    def __init__(self, n_clusters=4, hidden_dims=(16,), code_dim=3, epochs=2,
                 normalize='auto', device='@numpy', random_state=None, out=None,
                 resume='auto', verbose=False):
        self.n_clusters, self.hidden_dims, self.code_dim = n_clusters, hidden_dims, code_dim
        self.epochs, self.normalize, self.device = epochs, normalize, device
        self.random_state, self.out, self.resume, self.verbose = (random_state, out,
                                                                  resume, verbose)

    def _build_net(self, rng):
        return AEKMeansNet(self.input_shape_, self.hidden_dims, self.code_dim,
                           self.n_clusters, rng)

    def _train(self, run, net, x, y):
        xn = batched_forward(net.preprocess, x, device=run.device)
        run.run(Phase('autoencoder', ReconstructionLoss(net.autoencoder), xn,
                      chainer.optimizers.Adam(), (self.epochs, 'epoch'), 32,
                      params={'hidden_dims': list(self.hidden_dims),
                              'code_dim': self.code_dim, 'epochs': self.epochs}))
        z = batched_forward(net.autoencoder.encode, xn, device=run.device)
        kmeans = KMeans(self.n_clusters, n_init=2, random_state=run.random_state('kmeans'))
        net.centres.array[...] = kmeans.fit(z).cluster_centers_


def test_a_third_method_gets_cli_save_evaluate_export_and_runtime(tmp_path, monkeypatch):
    from chainclust import cli
    from chainclust.estimators import ESTIMATORS
    from chainclust_runtime import Assigner
    monkeypatch.setitem(ESTIMATORS, AEKMeans.method, AEKMeans)  # the one registry entry
    command = cli._train_command(AEKMeans)
    try:
        runner = CliRunner()
        help_text = runner.invoke(cli.main, ['train', 'aekmeans', '--help']).output
        for flag in ('--clusters', '--hidden-dims', '--code-dim', '--epochs', '--seed',
                     '--force', '--device', '--normalize', '--limit'):
            assert flag in help_text, flag
        assert 'Autoencoder epochs.' in help_text  # from the docstring
        out = str(tmp_path / 'run')
        result = runner.invoke(cli.main, ['train', 'aekmeans', '--data', 'digits', '--limit',
                                          200, '--out', out, '-q', '--code-dim', 2])
        assert result.exit_code == 0, result.output
        assert 'AEKMEANS:' in result.output and 'ACC' in result.output
        result = runner.invoke(cli.main, ['evaluate', out])
        assert result.exit_code == 0 and '200 samples' in result.output, result.output
        model = AEKMeans.load(out)
        assert model.code_dim == 2 and model.data_info_['limit'] == 200
        path = str(tmp_path / 'm.onnx')
        result = runner.invoke(cli.main, ['export', out, '--onnx', path])
        assert result.exit_code == 0, result.output
        data = datasets.load('digits').subset(200, random_state=0)
        assigner = Assigner(path)
        numpy.testing.assert_allclose(assigner.distances(data.x), model.cluster_scores(data.x),
                                      rtol=1e-4, atol=1e-4)
        numpy.testing.assert_array_equal(assigner.predict(data.x), model.predict(data.x))
    finally:
        cli.train.commands.pop(command.name, None)
