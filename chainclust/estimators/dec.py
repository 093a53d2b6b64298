"""DEC as a scikit-learn estimator."""
import chainer
from chainer.datasets import TupleDataset
import numpy
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import StrOptions

from chainclust import metrics
from chainclust.estimators.base import check_widths, ClusteringEstimator, non_negative_int
from chainclust.estimators.base import positive_float, positive_int, unit_interval
from chainclust.inference import batched_forward
from chainclust.estimators.autoencoder import check_unit_range, train_autoencoder
from chainclust.models import DECLoss, DECNet, DenoisingLayerLoss, ReconstructionLoss
from chainclust.models.autoencoders import KINDS
from chainclust.models.dec import SDAE
from chainclust.optimizers import Adam
from chainclust.training import LabelChangeTrigger, Phase, TargetDistributionUpdate
from chainclust.training.augment import affine_augmentation, AUGMENT_MODES, resolve_augment


class DEC(ClusteringEstimator):
    """Deep Embedded Clustering (Xie, Girshick and Farhadi, ICML 2016).

    1. An autoencoder ``d-500-500-2000-10``, optionally pretrained greedily
       layer by layer as a stacked denoising autoencoder (dropout corruption;
       ``pretrain_epochs`` per layer, 0 by default), then trained end to end;
       on images, by default, with DEC-DA's random shifts and rotations.
       Or (``backbone``) a member of the autoencoder family, trained as
       :class:`Autoencoder` trains it for ``finetune_epochs`` epochs.
    2. k-means (``n_init`` restarts) on the embeddings initialises the centres.
    3. The encoder and centres minimise ``KL(P || Q)`` with Student's t soft
       assignments ``Q``; the target ``P`` is recomputed over the whole dataset
       every ``update_interval`` iterations, and training stops when less than
       ``tol`` of the labels change between two updates (or at ``max_iter``).

    Args:
        n_clusters (int): K.
        hidden_dims (tuple of int): encoder hidden widths.
        embedding_dim (int): embedding size.
        alpha (float): degrees of freedom of the Student's t kernel.
        dropout (float): corruption ratio during layer-wise pretraining.
        pretrain_epochs (int): epochs per layer of greedy pretraining (0 skips it).
        finetune_epochs (int): epochs of end-to-end autoencoder training.
        pretrain_lr (float): Adam step size of both pretraining phases.
        batch_size (int): minibatch size of every phase.
        cluster_lr (float): SGD learning rate of the clustering phase.
        momentum (float): SGD momentum of the clustering phase.
        update_interval (int): iterations between target updates.
        tol (float): stop when fewer than this fraction of labels change.
        max_iter (int): iteration limit of the clustering phase.
        n_init (int): k-means restarts.
        backbone (str): ``'sdae'`` (the paper's autoencoder, above) or a member
            of the autoencoder family: ``shallow``, ``deep``, ``stacked``,
            ``sparse``, ``denoising``, ``vae``, ``beta_vae_strict``,
            ``beta_vae_loose`` (not ``vq_vae``: its quantised code passes no
            gradient to the encoder) (their architecture: ``hidden_dims``,
            ``dropout``, ``pretrain_epochs`` and ``augment`` do not apply; the
            data must lie in [0, 1] after normalisation).
        augment (str): ``auto`` (default), ``affine`` or ``none``. ``affine``
            trains the autoencoder (first pretraining layer and fine-tuning) on
            images shifted by up to 10% and rotated by up to 10 degrees, as
            DEC-DA does (Guo et al., ACML 2018); k-means and the clustering phase
            see the images unchanged. ``auto`` means ``affine`` for image samples
            ``(H, W)`` / ``(H, W, C)`` and ``none`` otherwise; ``none`` with
            ``pretrain_epochs > 0`` is the paper's procedure.
        normalize (str): ``auto``, ``scale255``, ``minmax``, ``standard``, ``none``
            (see :class:`chainclust.links.Normalization`).
        device (str): Chainer device spec, ``@numpy`` or ``@cupy:0``.
        communicator (str or None): train on the processes of ``mpiexec -n N``
            with this ChainerMN communicator (``naive`` on CPUs; ``flat`` or
            ``pure_nccl`` on GPUs); see :mod:`chainclust.distributed`.
        random_state (int, RandomState or None): seeds initialisation, dropout,
            augmentation, shuffling and k-means (NumPy's global generator is
            never touched); with an int a run is reproducible on CPU.
        out (str or None): folder for logs, plots, snapshots (training resumes
            from them) and the final model; a temporary folder when ``None``.
        resume (str): ``auto`` reuses the finished phases in ``out`` and resumes
            an interrupted one when their data and parameters match (and
            refuses when they do not); ``never`` trains everything again.
        verbose (bool): print progress (PrintReport and ProgressBar).

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` cluster of each training sample.
        cluster_centers_ (numpy.ndarray): ``(K, embedding_dim)`` centres.
        init_labels_ (numpy.ndarray): the k-means labels DEC started from.
        n_iter_ (int): iterations of the clustering phase.
    """

    method = 'dec'
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        hidden_dims=[tuple, list], embedding_dim=positive_int(), alpha=positive_float(),
        dropout=unit_interval(), pretrain_epochs=non_negative_int(),
        finetune_epochs=non_negative_int(), pretrain_lr=positive_float(),
        batch_size=positive_int(), cluster_lr=positive_float(),
        momentum=unit_interval(), update_interval=positive_int(),
        tol=unit_interval(), max_iter=positive_int(),
        n_init=positive_int(), backbone=[StrOptions({SDAE} | set(KINDS))],
        augment=[StrOptions(set(AUGMENT_MODES))])

    def __init__(self, n_clusters=10, hidden_dims=(500, 500, 2000), embedding_dim=10,
                 alpha=1.0, dropout=0.2, pretrain_epochs=0, finetune_epochs=120,
                 pretrain_lr=1e-3, batch_size=256, cluster_lr=0.01, momentum=0.9,
                 update_interval=140, tol=0.001, max_iter=20000, n_init=20,
                 backbone=SDAE, augment='auto', normalize='auto', device='@numpy',
                 communicator=None, random_state=None,
                 out=None, resume='auto', verbose=False):
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.alpha = alpha
        self.dropout = dropout
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.cluster_lr = cluster_lr
        self.momentum = momentum
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.backbone = backbone
        self.augment = augment
        self.normalize = normalize
        self.device = device
        self.communicator = communicator
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    # -- building ----------------------------------------------------------
    def _check_params(self, n_samples):
        super(DEC, self)._check_params(n_samples)
        check_widths('hidden_dims', self.hidden_dims)
        if self.backbone == 'vq_vae':
            raise ValueError("backbone='vq_vae' cannot start DEC: its code is quantised, "
                             'piecewise constant, so DEC\'s loss could not train the encoder')
        if self.backbone != SDAE and self.batch_size < 2:
            raise ValueError('batch_size must be >= 2 with backbone=%r: the network uses '
                             'batch normalisation' % self.backbone)
        if self.backbone != SDAE and self.augment == 'affine':
            raise ValueError("augment='affine' applies to the 'sdae' backbone only, not to "
                             "backbone=%r" % self.backbone)
        self._augment_mode()  # refuses 'affine' for samples that are not images

    def _prepare(self, x):
        if self.backbone != SDAE:
            check_unit_range(*self._normalised_range(x), normalize=self.normalize)

    def _build_net(self, rng):
        return DECNet(self.input_shape_, tuple(self.hidden_dims), self.embedding_dim,
                      self.n_clusters, self.alpha, rng=rng, backbone=self.backbone)

    # -- fitting -----------------------------------------------------------
    def _augment_mode(self):
        """``augment`` with ``auto`` resolved for these samples."""
        if self.augment == 'auto' and self.backbone != SDAE:
            return 'none'
        return resolve_augment(self.augment, self.input_shape_)

    def _autoencoder_phase(self, run, name, loss, data, epochs, augment, params,
                           states=None):
        """Adam on the (optionally augmented) autoencoder input."""
        states, converter = dict(states or {}), None
        if augment:
            converter, states['augment'] = affine_augmentation(run, name, self.input_shape_)
        return run.run(Phase(name, loss, data, Adam(alpha=self.pretrain_lr),
                             (epochs, 'epoch'), self.batch_size, params=params,
                             converter=converter, random_states=states))

    def _train(self, run, net, x, y):
        self.augment_ = self._augment_mode()
        xf = numpy.asarray(x, dtype=numpy.float32)
        if self.backbone != SDAE:
            train_autoencoder(run, net, xf, self.backbone, self.finetune_epochs,
                              self.pretrain_lr, self.batch_size, prefix='backbone/',
                              params={'embedding_dim': self.embedding_dim})
        else:
            self._train_sdae(run, net, xf)
        self._cluster(run, net, x, xf, y)

    def _train_sdae(self, run, net, xf):
        """The paper's autoencoder: greedy denoising layers, then end to end."""
        device = run.device
        augment = self.augment_ == 'affine'
        xn = batched_forward(net.preprocess, xf, device=device)
        autoencoder = net.autoencoder
        shared = {'hidden_dims': list(self.hidden_dims), 'embedding_dim': self.embedding_dim,
                  'batch_size': self.batch_size, 'pretrain_lr': self.pretrain_lr,
                  'augment': self.augment_, 'pretrain_epochs': self.pretrain_epochs,
                  'dropout': self.dropout if self.pretrain_epochs else None}
        for i in range(autoencoder.n_layers if self.pretrain_epochs else 0):
            h = xn if i == 0 else run.distribution.map_rows(lambda part: batched_forward(
                lambda a: autoencoder.encode(a, stop=i), part, device=device), xn)
            name = 'pretrain/layer%d' % i
            masks = run.sample_random_state(name + '/dropout')
            self._autoencoder_phase(run, name, DenoisingLayerLoss(autoencoder, i, self.dropout,
                                                                  masks),
                                    h, self.pretrain_epochs, augment and i == 0, shared,
                                    states={'dropout': masks})
        self._autoencoder_phase(run, 'finetune', ReconstructionLoss(autoencoder), xn,
                                self.finetune_epochs, augment,
                                dict(shared, finetune_epochs=self.finetune_epochs))

    def _cluster(self, run, net, x, xf, y):
        """k-means on the embeddings, then DEC's self-training until labels settle."""
        device, dist = run.device, run.distribution
        z = dist.map_rows(lambda a: batched_forward(net.embed, a, device=device), xf)

        def kmeans():  # on rank 0 alone
            fitted = KMeans(self.n_clusters, n_init=self.n_init,
                            random_state=run.random_state('kmeans')).fit(z)
            return fitted.cluster_centers_, fitted.labels_.astype(numpy.int64)
        centres, self.init_labels_ = dist.root_computes(kmeans)
        net.clustering.set_centers(centres)
        self.init_metrics_ = None if y is None else metrics.evaluate(y, self.init_labels_)

        p = numpy.zeros((len(x), self.n_clusters), dtype=numpy.float32)
        target = TargetDistributionUpdate(
            lambda a: batched_forward(net, a, device=device), xf, p,
            self.update_interval, y, distribution=dist)
        interval = (self.update_interval, 'iteration')
        keys = ['main/loss', 'delta_label'] + (['acc', 'nmi'] if y is not None else [])
        plots = [('loss.png', ['main/loss']), ('delta_label.png', ['delta_label'])]
        if y is not None:
            plots.append(('metrics.png', ['acc', 'nmi', 'ari']))
        params = {'n_clusters': self.n_clusters, 'n_init': self.n_init, 'alpha': self.alpha,
                  'cluster_lr': self.cluster_lr, 'momentum': self.momentum,
                  'update_interval': self.update_interval, 'tol': self.tol,
                  'max_iter': self.max_iter}
        cluster = Phase('cluster', DECLoss(net), TupleDataset(xf, p),
                        chainer.optimizers.MomentumSGD(self.cluster_lr, self.momentum),
                        LabelChangeTrigger(target, self.tol, self.max_iter), self.batch_size,
                        params=params, extensions=[(target, {})], log_trigger=interval,
                        snapshot_trigger=interval, report_keys=keys, plots=plots,
                        progress_length=(self.max_iter, 'iteration'))
        run.run(cluster)
        self.n_iter_ = cluster.iterations

    # -- inference ---------------------------------------------------------
    def predict_proba(self, X):
        """Soft assignments ``q`` ``(N, K)`` of samples ``X`` ``(N, ...)``."""
        return self.cluster_scores(X)

    @property
    def cluster_centers_(self):
        self._check_fitted()
        return chainer.backend.CpuDevice().send(self.net_.clustering.mu.array).copy()

    def summary(self):
        lines = super(DEC, self).summary()
        if getattr(self, 'init_metrics_', None) is not None:
            lines.insert(0, 'autoencoder + k-means: %s'
                         % metrics.format_metrics(self.init_metrics_))
        return lines

    # -- persistence -------------------------------------------------------
    def _extra_state(self):
        state = super(DEC, self)._extra_state()
        if getattr(self, 'augment_', None) is not None:
            state['augmentation'] = self.augment_
        if getattr(self, 'init_metrics_', None) is not None:
            state['init_metrics'] = self.init_metrics_
        if getattr(self, 'n_iter_', None) is not None:
            state['n_iter'] = self.n_iter_
        return state

    def _restore_state(self, info):
        super(DEC, self)._restore_state(info)
        self.augment_ = info.get('augmentation')
        self.init_metrics_ = info.get('init_metrics')
        self.n_iter_ = info.get('n_iter')
