"""VQ-AE clustering as a scikit-learn estimator."""
import os

import chainer
import numpy
from sklearn.utils._param_validation import StrOptions

from chainclust import plots
from chainclust.estimators.base import check_widths, ClusteringEstimator, non_negative_float
from chainclust.estimators.base import non_negative_int
from chainclust.estimators.base import positive_float, positive_int
from chainclust.errors import ParameterError
from chainclust.functions.codebook_distance import METRICS
from chainclust.inference import batched_forward
from chainclust.models import ReconstructionLoss, VQAELoss, VQAENet
from chainclust.models.vqae import VARIANTS
from chainclust.optimizers import Adam
from chainclust.training import Phase, TensorBoardReport, VQMonitor

INITS = ('pretrained', 'untrained')
REPORT_KEYS = ('main/loss', 'main/reconstruction', 'main/quantizing',
               'main/reconstructed_quantized')


class VQAE(ClusteringEstimator):
    """Vector-Quantized AutoEncoder clustering (Shimomura 2021; van den Oord 2017).

    An autoencoder ``X -> E -> X_hat`` whose encoder output is quantized to the
    nearest of ``n_clusters`` codebook vectors (Euclidean distance or cosine
    similarity); a sample's cluster is the index of its nearest code.

    1. ``init='pretrained'``: the autoencoder first trains alone for
       ``pretrain_epochs`` (the study found this essential; ``'untrained'``
       skips it).
    2. The codebook starts as the encoder outputs of ``n_clusters`` randomly drawn
       training samples.
    3. Training minimises ``MSE(X, D(E)) + QuantizingError(SG(E), Q)``
       (``variant='study'``), or VQ-VAE's loss with a straight-through decoder
       input and commitment weight ``beta`` (``variant='vqvae'``).

    Args:
        n_clusters (int): the quantization number K: codebook size = number of clusters.
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
        normalize, device, communicator, random_state, out, resume, verbose: as for :class:`DEC`.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` nearest code of each training sample.
        cluster_centers_ (numpy.ndarray): the codebook ``(K, code_dim)``.
        usage_ (numpy.ndarray): training samples per code ``(K,)``.
        dead_codes_ (int): codes no training sample uses.
        init_codebook_stats_ (dict): mean and std of the initial codebook.
    """

    method = 'vqae'
    cli_aliases = {'n_clusters': ('--codes',)}
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        metric=[StrOptions(set(METRICS))], hidden_dims=[tuple, list], code_dim=positive_int(),
        variant=[StrOptions(set(VARIANTS))], beta=non_negative_float(),
        init=[StrOptions(set(INITS))], pretrain_epochs=non_negative_int(),
        epochs=non_negative_int(), lr=positive_float(), batch_size=positive_int(),
        monitor_interval=positive_int(), tensorboard=['boolean'])

    def __init__(self, n_clusters=10, metric='euclidean', hidden_dims=(512, 256), code_dim=64,
                 variant='study', beta=0.25, init='pretrained', pretrain_epochs=20,
                 epochs=50, lr=1e-3, batch_size=1024, monitor_interval=10,
                 tensorboard=False, normalize='auto', device='@numpy', communicator=None,
                 random_state=None,
                 out=None, resume='auto', verbose=False):
        self.n_clusters = n_clusters
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
        self.communicator = communicator
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    def _check_params(self, n_samples):
        check_widths('hidden_dims', self.hidden_dims)
        if self.batch_size > n_samples:
            raise ValueError('batch_size=%d is more than the %d samples'
                             % (self.batch_size, n_samples))

    def _build_net(self, rng):
        return VQAENet(self.input_shape_, tuple(self.hidden_dims), self.code_dim,
                       self.n_clusters, self.metric, rng=rng)

    def _after_fit(self, x):
        self.usage_ = numpy.bincount(self.labels_, minlength=self.n_clusters)
        self.dead_codes_ = int((self.usage_ == 0).sum())

    def _phase(self, name, loss, data, epochs, params, **kwargs):
        """Adam on full batches only, as the study trained."""
        return Phase(name, loss, data, Adam(alpha=self.lr),
                     (epochs, 'epoch'), self.batch_size, params=params, order='drop_last',
                     **kwargs)

    def _train(self, run, net, x, y):
        writer = None
        if self.tensorboard and run.writes:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise ParameterError('tensorboard=True needs tensorboardX: pip install tensorboardX')
            writer = SummaryWriter(os.path.join(run.out, 'tensorboard'))
        try:
            self._train_phases(run, net, x, writer)
        finally:
            if writer is not None:
                writer.close()

    def _train_phases(self, run, net, x, writer):
        device = run.device
        xf = numpy.asarray(x, dtype=numpy.float32)
        shared = {'hidden_dims': list(self.hidden_dims), 'code_dim': self.code_dim,
                  'lr': self.lr, 'batch_size': self.batch_size, 'init': self.init,
                  'pretrain_epochs': self.pretrain_epochs if self.init == 'pretrained' else None}
        if self.init == 'pretrained':
            xn = batched_forward(net.preprocess, xf, device=device)
            run.run(self._phase('pretrain', ReconstructionLoss(net.autoencoder), xn,
                                self.pretrain_epochs, shared))
        draw = run.random_state('codebook').choice(len(xf), self.n_clusters,
                                                   replace=self.n_clusters > len(xf))
        codes = run.distribution.root_computes(
            lambda: batched_forward(net.embed, xf[draw], device=device))
        net.codebook.set_codes(codes)  # replaced by the snapshot or result when resuming
        self.init_codebook_stats_ = {'mean': float(codes.mean()), 'std': float(codes.std())}
        train_dir = run.folder('train')
        monitor = VQMonitor(net, xf, os.path.join(train_dir, 'records'),
                            self.monitor_interval, plots.grey_image_shape(self.input_shape_),
                            writer,
                            device=device)
        extensions = [(monitor, {})]
        keys = list(REPORT_KEYS) + (['main/commitment'] if self.variant == 'vqvae' else [])
        if writer is not None:
            extensions.append((TensorBoardReport(writer, keys), {}))
        every_step = (1, 'iteration')
        params = dict(shared, n_clusters=self.n_clusters, metric=self.metric,
                      variant=self.variant, beta=self.beta, epochs=self.epochs)
        run.run(self._phase('train', VQAELoss(net, self.variant, self.beta), xf, self.epochs,
                            params, extensions=extensions, log_trigger=every_step,
                            report_keys=keys + ['used_codes'],
                            plots=[('loss.png', keys), ('used_codes.png', ['used_codes'])]))

    # -- inference ---------------------------------------------------------
    def distances(self, X):
        """Distances to every code ``(N, K)``."""
        return self.cluster_scores(X)

    def codebook_usage(self, X):
        """Samples of ``X`` per code ``(K,)``."""
        return numpy.bincount(self.predict(X), minlength=self.n_clusters)

    @property
    def cluster_centers_(self):
        self._check_fitted()
        return chainer.backend.CpuDevice().send(self.net_.codebook.W.array).copy()

    def summary(self):
        lines = super(VQAE, self).summary()
        if getattr(self, 'dead_codes_', None) is not None:
            lines.append('codes used: %d of %d' % (self.n_clusters - self.dead_codes_,
                                                    self.n_clusters))
        return lines

    # -- persistence -------------------------------------------------------
    _STATE = ('init_codebook_stats_', 'dead_codes_', 'usage_')

    def _extra_state(self):
        state = super(VQAE, self)._extra_state()
        for name in self._STATE:
            value = getattr(self, name, None)
            if value is not None:
                state[name.rstrip('_')] = value.tolist() if name == 'usage_' else value
        return state

    def _restore_state(self, info):
        super(VQAE, self)._restore_state(info)
        for name in self._STATE:
            value = info.get(name.rstrip('_'))
            if value is not None:
                setattr(self, name, numpy.asarray(value, dtype=numpy.int64)
                        if name == 'usage_' else value)
