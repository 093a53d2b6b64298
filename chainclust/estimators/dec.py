"""DEC as a scikit-learn-style estimator."""
import os

import chainer
from chainer.datasets import TupleDataset
import numpy
from sklearn.cluster import KMeans

from chainclust import metrics
from chainclust.estimators.base import ClusteringEstimator
from chainclust.inference import batched_forward
from chainclust.models import DECLoss, DECNet, DenoisingLayerLoss, ReconstructionLoss
from chainclust.training import LabelChangeTrigger
from chainclust.training import TargetDistributionUpdate
from chainclust.training.augment import AUGMENT_MODES, ImageAugmenter, is_image_shape


class DEC(ClusteringEstimator):
    """Deep Embedded Clustering (Xie, Girshick and Farhadi, ICML 2016).

    1. An autoencoder ``d-500-500-2000-10``, optionally pretrained greedily
       layer by layer as a stacked denoising autoencoder (dropout corruption;
       ``pretrain_epochs`` per layer, 0 by default), then trained end to end;
       on images, by default, with DEC-DA's random shifts and rotations.
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
        random_state (int or None): seeds initialisation, dropout, shuffling
            and k-means; a run is reproducible on CPU.
        out (str or None): folder for logs, plots, snapshots (training resumes
            from them) and the final model; a temporary folder when ``None``.
        verbose (bool): print progress (PrintReport and ProgressBar).

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` cluster of each training sample.
        cluster_centers_ (numpy.ndarray): ``(K, embedding_dim)`` centres.
        init_labels_ (numpy.ndarray): the k-means labels DEC started from.
    """

    method = 'dec'

    def __init__(self, n_clusters=10, hidden_dims=(500, 500, 2000), embedding_dim=10,
                 alpha=1.0, dropout=0.2, pretrain_epochs=0, finetune_epochs=120,
                 pretrain_lr=1e-3, batch_size=256, cluster_lr=0.01, momentum=0.9,
                 update_interval=140, tol=0.001, max_iter=20000, n_init=20,
                 augment='auto', normalize='auto', device='@numpy', random_state=None, out=None,
                 verbose=False):
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
        self.augment = augment
        self.normalize = normalize
        self.device = device
        self.random_state = random_state
        self.out = out
        self.verbose = verbose

    # -- building ----------------------------------------------------------
    def _check_params(self, n_samples):
        def positive(name, integer=True):
            value = getattr(self, name)
            ok = (isinstance(value, (int, numpy.integer)) if integer
                  else isinstance(value, (int, float))) and value > 0
            if not ok:
                raise ValueError('%s must be a positive %s, got %r'
                                 % (name, 'integer' if integer else 'number', value))
        for name in ('n_clusters', 'embedding_dim', 'batch_size', 'update_interval',
                     'max_iter', 'n_init'):
            positive(name)
        for name in ('alpha', 'pretrain_lr', 'cluster_lr'):
            positive(name, integer=False)
        for name in ('pretrain_epochs', 'finetune_epochs'):
            if not isinstance(getattr(self, name), (int, numpy.integer)) or \
                    getattr(self, name) < 0:
                raise ValueError('%s must be a non-negative integer' % name)
        if not 0 <= self.dropout < 1:
            raise ValueError('dropout must be in [0, 1), got %r' % (self.dropout,))
        if not 0 <= self.tol < 1:
            raise ValueError('tol must be in [0, 1), got %r' % (self.tol,))
        if self.augment not in AUGMENT_MODES:
            raise ValueError('augment must be one of %s, got %r'
                             % (', '.join(AUGMENT_MODES), self.augment))
        if self.augment == 'affine' and not is_image_shape(self.input_shape_):
            raise ValueError('augment=\'affine\' needs image samples (H, W) or (H, W, C), '
                             'got samples of shape %s' % (self.input_shape_,))
        if n_samples < self.n_clusters:
            raise ValueError('n_clusters=%d is more than the %d samples'
                             % (self.n_clusters, n_samples))

    def _build_net(self):
        n_features = int(numpy.prod(self.input_shape_))
        return DECNet(n_features, tuple(self.hidden_dims), self.embedding_dim,
                      self.n_clusters, self.alpha)

    # -- fitting -----------------------------------------------------------
    def _augmenter(self):
        """The pretraining augmentation for these samples, or ``None``."""
        mode = self.augment
        if mode == 'auto':
            mode = 'affine' if is_image_shape(self.input_shape_) else 'none'
        self.augment_ = mode
        if mode == 'none':
            return None
        seed = None if self.random_state is None else [self.random_state, 1]
        return ImageAugmenter(self.input_shape_, numpy.random.RandomState(seed))

    def _train(self, net, x, y, out, device):
        seed = self.random_state
        xf = numpy.asarray(x, dtype=numpy.float32)
        xn = batched_forward(net.normalize, xf, device=device)
        sae = net.sae
        augment = self._augmenter()
        for i in range(sae.n_layers if self.pretrain_epochs else 0):
            h = xn if i == 0 else batched_forward(
                lambda a: sae.encode(a, stop=i), xn, device=device)
            self._run_phase(DenoisingLayerLoss(sae, i, self.dropout), h,
                            os.path.join(out, 'pretrain', 'layer%d' % i),
                            (self.pretrain_epochs, 'epoch'),
                            chainer.optimizers.Adam(alpha=self.pretrain_lr),
                            transform=augment if i == 0 else None)
        self._run_phase(ReconstructionLoss(sae), xn, os.path.join(out, 'finetune'),
                        (self.finetune_epochs, 'epoch'),
                        chainer.optimizers.Adam(alpha=self.pretrain_lr), transform=augment)

        z = batched_forward(sae.encode, xn, device=device)
        kmeans = KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(z)
        net.clustering.set_centers(kmeans.cluster_centers_)
        self.init_labels_ = kmeans.labels_.astype(numpy.int64)
        self.init_metrics_ = None if y is None else metrics.evaluate(y, self.init_labels_)

        p = numpy.zeros((len(x), self.n_clusters), dtype=numpy.float32)
        target = TargetDistributionUpdate(
            lambda a: batched_forward(net, a, device=device), xf, p,
            self.update_interval, y)
        interval = (self.update_interval, 'iteration')
        keys = ['main/loss', 'delta_label'] + (['acc', 'nmi'] if y is not None else [])
        plots = [('loss.png', ['main/loss']), ('delta_label.png', ['delta_label'])]
        if y is not None:
            plots.append(('metrics.png', ['acc', 'nmi', 'ari']))
        self._run_phase(DECLoss(net), TupleDataset(xf, p), os.path.join(out, 'cluster'),
                        LabelChangeTrigger(target, self.tol, self.max_iter),
                        chainer.optimizers.MomentumSGD(self.cluster_lr, self.momentum),
                        extra_extensions=[(target, {})], log_trigger=interval,
                        snapshot_trigger=interval, report_keys=keys, plots=plots,
                        progress_length=(self.max_iter, 'iteration'))

    # -- inference ---------------------------------------------------------
    def predict_proba(self, X):
        """Soft assignments ``q`` ``(N, K)`` of samples ``X`` ``(N, ...)``."""
        return self._forward(X)

    def predict(self, X):
        """Cluster labels ``(N,)`` int64: the argmax of :meth:`predict_proba`."""
        return self.predict_proba(X).argmax(axis=1).astype(numpy.int64)

    def assignment_outputs(self, x):
        """``{'proba': q (N, K), 'embedding': z (N, d)}`` for the ONNX assigner."""
        z = self.net_.embed(x)
        return {'proba': self.net_.clustering(z), 'embedding': z}

    @property
    def cluster_centers_(self):
        self._check_fitted()
        return chainer.backend.CpuDevice().send(self.net_.clustering.mu.array).copy()

    # -- persistence -------------------------------------------------------
    def _extra_state(self):
        state = super(DEC, self)._extra_state()
        if getattr(self, 'augment_', None) is not None:
            state['augmentation'] = self.augment_
        if getattr(self, 'init_metrics_', None) is not None:
            state['init_metrics'] = self.init_metrics_
        return state

    def _restore_state(self, info):
        super(DEC, self)._restore_state(info)
        self.augment_ = info.get('augmentation')
        self.init_metrics_ = info.get('init_metrics')
