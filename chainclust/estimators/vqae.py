"""VQ-AE clustering as a scikit-learn-style estimator."""
import os

import chainer
import numpy

from chainclust.estimators.base import ClusteringEstimator
from chainclust.functions.codebook_distance import check_metric
from chainclust.inference import batched_forward
from chainclust.models import ReconstructionLoss, VQAELoss, VQAENet
from chainclust.models.vqae import VARIANTS
from chainclust.training import TensorBoardReport, VQMonitor

INITS = ('pretrained', 'untrained')
REPORT_KEYS = ('main/loss', 'main/reconstruction', 'main/quantizing',
               'main/reconstructed_quantized')


class VQAE(ClusteringEstimator):
    """Vector-Quantized AutoEncoder clustering (Shimomura 2021; van den Oord 2017).

    An autoencoder ``X -> E -> X_hat`` whose encoder output is quantized to the
    nearest of ``n_codes`` codebook vectors (Euclidean distance or cosine
    similarity); a sample's cluster is the index of its nearest code.

    1. ``init='pretrained'``: the autoencoder first trains alone for
       ``pretrain_epochs`` (the study found this essential; ``'untrained'``
       skips it).
    2. The codebook starts as the encoder outputs of ``n_codes`` randomly drawn
       training samples.
    3. Training minimises ``MSE(X, D(E)) + QuantizingError(SG(E), Q)``
       (``variant='study'``), or VQ-VAE's loss with a straight-through decoder
       input and commitment weight ``beta`` (``variant='vqvae'``).

    Args:
        n_codes (int): the quantization number K (= number of clusters).
        metric (str): ``'euclidean'`` or ``'cosine'``.
        hidden_dims (tuple of int): encoder hidden widths; with the code layer,
            three fully connected layers each side.
        code_dim (int): encoder output size.
        variant (str): ``'study'`` or ``'vqvae'``.
        beta (float): VQ-VAE commitment weight.
        init (str): ``'pretrained'`` or ``'untrained'`` codebook initialisation.
        pretrain_epochs (int): autoencoder epochs before the codebook is drawn.
        epochs (int): epochs of VQ training.
        lr (float): Adam step size.
        batch_size (int): minibatch size; each epoch drops the incomplete last
            batch (a different random remainder each epoch).
        monitor_interval (int): epochs between usage histograms and image grids.
        tensorboard (bool): also write TensorBoard events (needs tensorboardX).
        normalize, device, random_state, out, verbose: as for :class:`DEC`.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` nearest code of each training sample.
        cluster_centers_ (numpy.ndarray): the codebook ``(K, code_dim)``.
        usage_ (numpy.ndarray): training samples per code ``(K,)``.
        dead_codes_ (int): codes no training sample uses.
        init_codebook_stats_ (dict): mean and std of the initial codebook.
    """

    method = 'vqae'

    def __init__(self, n_codes=10, metric='euclidean', hidden_dims=(512, 256), code_dim=64,
                 variant='study', beta=0.25, init='pretrained', pretrain_epochs=20,
                 epochs=50, lr=1e-3, batch_size=1024, monitor_interval=10,
                 tensorboard=False, normalize='auto', device='@numpy', random_state=None,
                 out=None, verbose=False):
        self.n_codes = n_codes
        self.metric = metric
        self.hidden_dims = hidden_dims
        self.code_dim = code_dim
        self.variant = variant
        self.beta = beta
        self.init = init
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.monitor_interval = monitor_interval
        self.tensorboard = tensorboard
        self.normalize = normalize
        self.device = device
        self.random_state = random_state
        self.out = out
        self.verbose = verbose

    @property
    def n_clusters(self):
        return self.n_codes

    def _check_params(self, n_samples):
        for name in ('n_codes', 'code_dim', 'batch_size', 'monitor_interval'):
            value = getattr(self, name)
            if not isinstance(value, (int, numpy.integer)) or value < 1:
                raise ValueError('%s must be a positive integer, got %r' % (name, value))
        for name in ('pretrain_epochs', 'epochs'):
            value = getattr(self, name)
            if not isinstance(value, (int, numpy.integer)) or value < 0:
                raise ValueError('%s must be a non-negative integer, got %r' % (name, value))
        check_metric(self.metric)
        if self.variant not in VARIANTS:
            raise ValueError('variant must be one of %s, got %r' % (VARIANTS, self.variant))
        if self.init not in INITS:
            raise ValueError('init must be one of %s, got %r' % (INITS, self.init))
        if not self.lr > 0 or not self.beta >= 0:
            raise ValueError('lr must be positive and beta non-negative')
        if self.batch_size > n_samples:
            raise ValueError('batch_size=%d is more than the %d samples'
                             % (self.batch_size, n_samples))

    def _build_net(self):
        n_features = int(numpy.prod(self.input_shape_))
        return VQAENet(n_features, tuple(self.hidden_dims), self.code_dim, self.n_codes,
                       self.metric)

    def _image_shape(self):
        shape = tuple(self.input_shape_)
        return shape if len(shape) == 2 else None

    def _after_fit(self):
        self.usage_ = numpy.bincount(self.labels_, minlength=self.n_codes)
        self.dead_codes_ = int((self.usage_ == 0).sum())

    def _phase(self, loss, data, out, epochs, **kwargs):
        """Adam on full batches only, as the study trained."""
        return self._run_phase(loss, data, out, (epochs, 'epoch'),
                               chainer.optimizers.Adam(alpha=self.lr), drop_last=True,
                               **kwargs)

    def _train(self, net, x, y, out, device):
        writer = None
        if self.tensorboard:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise ValueError('tensorboard=True needs tensorboardX: pip install tensorboardX')
            writer = SummaryWriter(os.path.join(out, 'tensorboard'))
        try:
            self._train_phases(net, x, out, device, writer)
        finally:
            if writer is not None:
                writer.close()

    def _train_phases(self, net, x, out, device, writer):
        xf = numpy.asarray(x, dtype=numpy.float32)
        if self.init == 'pretrained':
            xn = batched_forward(net.normalize, xf, device=device)
            self._phase(ReconstructionLoss(net.sae), xn, os.path.join(out, 'pretrain'),
                        self.pretrain_epochs)
        train_dir = os.path.join(out, 'train')
        if not os.path.exists(os.path.join(train_dir, 'done.npz')):
            rng = numpy.random.RandomState(self.random_state)
            drawn = rng.choice(len(xf), self.n_codes, replace=self.n_codes > len(xf))
            codes = batched_forward(net.embed, xf[drawn], device=device)
            net.codebook.set_codes(codes)
            self.init_codebook_stats_ = {'mean': float(codes.mean()),
                                         'std': float(codes.std())}
        monitor = VQMonitor(net, xf, os.path.join(train_dir, 'records'),
                            self.monitor_interval, self._image_shape(), writer,
                            device=device)
        extensions = [(monitor, {})]
        keys = list(REPORT_KEYS) + (['main/commitment'] if self.variant == 'vqvae' else [])
        if writer is not None:
            extensions.append((TensorBoardReport(writer, keys), {}))
        every_step = (1, 'iteration')
        self._phase(VQAELoss(net, self.variant, self.beta), xf, train_dir, self.epochs,
                    extra_extensions=extensions, log_trigger=every_step,
                    report_keys=keys + ['used_codes'],
                    plots=[('loss.png', keys), ('used_codes.png', ['used_codes'])])

    # -- inference ---------------------------------------------------------
    def distances(self, X):
        """Distances to every code ``(N, K)``."""
        return self._forward(X)

    def predict(self, X):
        """Index of the nearest code ``(N,)`` int64."""
        return self.distances(X).argmin(axis=1).astype(numpy.int64)

    def codebook_usage(self, X):
        """Samples of ``X`` per code ``(K,)``."""
        return numpy.bincount(self.predict(X), minlength=self.n_codes)

    def assignment_outputs(self, x):
        """``{'distance': (N, K), 'embedding': (N, code_dim)}`` for the ONNX assigner."""
        e = self.net_.embed(x)
        return {'distance': self.net_.codebook.distances(e), 'embedding': e}

    @property
    def cluster_centers_(self):
        self._check_fitted()
        return chainer.backend.CpuDevice().send(self.net_.codebook.W.array).copy()

    # -- persistence -------------------------------------------------------
    def _extra_state(self):
        state = super(VQAE, self)._extra_state()
        for name in ('init_codebook_stats_', 'dead_codes_'):
            value = getattr(self, name, None)
            if value is not None:
                state[name.rstrip('_')] = value
        return state
