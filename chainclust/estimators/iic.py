"""IIC clustering as a scikit-learn estimator."""
import os

import numpy

from chainclust import metrics, plots
from chainclust.estimators.base import ClusteringEstimator, non_negative_float, non_negative_int
from chainclust.estimators.base import positive_float, positive_int
from chainclust.estimators import starts
from chainclust.errors import ParameterError
from chainclust.inference import batched_forward
from chainclust.models.base import image_layout
from chainclust.models.iic import IICLoss, IICNet, TRUNK_CHANNELS
from chainclust.optimizers import Adam
from chainclust.training import EpochIntervalTrigger, Phase
from chainclust.training.cluster_metrics import ClusterMetricsReport
from chainclust.training.iic_monitor import AlphaWarmup, JointPlot, SubheadChooser
from chainclust.training.transforms import AUGMENTATIONS, make_transform, parse_augment


# augmentations that assume images in [0, 1]: refused outside it (noise only loses its clip)
UNIT_RANGE_ONLY = ('stroke', 'binarize')


class IIC(starts.MultiStartMixin, ClusteringEstimator):
    """Invariant Information Clustering (Ji, Henriques and Vedaldi 2019).

    A convolutional network whose softmax output for an image and for a
    randomly transformed copy of it should carry the most information about
    each other: the loss is IIC's ``sum P_ij (alpha log P_i + alpha log P_j -
    log P_ij)`` over the joint distribution P of the two outputs' clusters.
    ``alpha = 1`` is minus the mutual information (the paper); larger values
    weight the entropy of the marginal more, which keeps every cluster in
    use. A second head with ``overclustering`` times as many clusters trains
    the trunk alongside (the paper's auxiliary overclustering); each head has
    ``n_subheads`` independent sub-heads, and labels come from the clustering
    sub-head with the lowest loss. For images only.

    With ``out``, the result folder gets ``train/joint/epochNNN.png`` (P of the
    last batch each epoch), ``clusters.png`` and ``overclusters.png`` (example
    images per cluster) and, when labels were given, ``confusion.png`` and the
    per-epoch ACC/NMI/ARI in the log and ``train/metrics.png``.

    Args:
        n_clusters (int): K, the clusters of the clustering head.
        alpha (float): weight of the marginal entropies in the loss (the
            paper: 1). Larger values favour balanced clusters, but near uniform
            outputs they make the uniform output for every image a local
            minimum, and with few distinct images per batch the best one (see
            ``alpha_delay``; measured with 10 on MNIST-10k from the first
            step: the loss settles there within two epochs).
        alpha_warmup (float): epochs over which ``alpha`` ramps linearly from 1
            to its value (0: no ramp).
        alpha_delay (float): epochs of training at ``alpha = 1`` before the
            ramp (or the jump, without ``alpha_warmup``) to ``alpha``: near
            uniform outputs any ``alpha > 1`` makes the batch loss rise away
            from uniform (README, "IIC, as implemented"), so the clusters form
            at the mutual information first. With ``n_init``, each start
            follows the schedule and the chosen one continues it.
        overclustering (int): the overclustering head has this many times K
            clusters; 0 trains without it.
        n_subheads (int): independent sub-heads per head (the paper: 5).
        copies (int): transformed copies of every image per batch (the
            reference code's repeats).
        augment (str): the random transformations, comma-separated, from
            rotation, shear, scale, crop, flip, stroke (thicker or thinner
            strokes), binarize, noise, jitter; ``all``
            (every one that suits the images: flip for colour images only,
            stroke, binarize and noise for data in [0, 1] only: a per-pixel
            standardisation gives neighbouring pixels different scales) or
            ``none``.
        transform_both (bool): transform the first view of each pair too (its
            own draw; the reference code crops and resizes both views), instead
            of pairing the original image with its transformed copies.
        epochs (int): training epochs (the starts' included).
        n_init (int): independent starts (as k-means' ``n_init``): each trains
            ``init_epochs`` epochs from its own initial weights, and the one
            with the lowest loss in its last epoch goes on for the remaining
            ``epochs - init_epochs`` (with a fresh Adam state). 1: one start,
            as the paper.
        init_epochs (int): epochs of each start when ``n_init > 1``.
        lr (float): Adam step size.
        batch_size (int): images per batch (before the copies).
        metrics_interval (int): with labels, epochs between the evaluations
            of ACC/NMI/ARI on all samples (and after the last epoch); each one
            is a forward pass over the data, measured at 11-20 s of a 45-70 s
            epoch on MNIST-10k on a CPU. Monitoring only: training is the same.
        normalize, device, communicator, random_state, out, resume, verbose: as for DEC.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` cluster of each sample.
        subhead_losses_ (list of float): each clustering sub-head's mean loss
            in the last epoch.
        augment_ (tuple of str): the transformations ``augment`` resolved to.
        start_losses_ (list of float or None): with ``n_init > 1``, each start's
            loss in its last epoch (the lowest went on).
    """

    method = 'iic'
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        alpha=positive_float(), alpha_warmup=non_negative_float(),
        alpha_delay=non_negative_float(),
        overclustering=non_negative_int(), n_subheads=positive_int(),
        copies=positive_int(), augment=[str], transform_both=['boolean'],
        epochs=positive_int(), lr=positive_float(), batch_size=positive_int(),
        metrics_interval=positive_int(), **starts.PARAMETER_CONSTRAINTS)

    def __init__(self, n_clusters=10, alpha=1.0, alpha_warmup=0.0, alpha_delay=0.0,
                 overclustering=5,
                 n_subheads=5, copies=1, augment='all', transform_both=False, epochs=20, n_init=1,
                 init_epochs=4, lr=1e-4, batch_size=100, metrics_interval=1,
                 normalize='auto', device='@numpy', communicator=None, random_state=None,
                 out=None, resume='auto', verbose=False):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.alpha_warmup = alpha_warmup
        self.alpha_delay = alpha_delay
        self.overclustering = overclustering
        self.n_subheads = n_subheads
        self.copies = copies
        self.augment = augment
        self.transform_both = transform_both
        self.epochs = epochs
        self.n_init = n_init
        self.init_epochs = init_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.metrics_interval = metrics_interval
        self.normalize = normalize
        self.device = device
        self.communicator = communicator
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    def _check_params(self, n_samples):
        if self.batch_size < 2:
            raise ValueError('batch_size must be >= 2: the network uses batch normalisation')
        parse_augment(self.augment)
        self._check_starts()
        try:
            stored, axes = image_layout(self.input_shape_)
        except ValueError as error:
            raise ValueError('IIC clusters images: %s' % error)
        size = min(stored[a - 1] for a in axes[2:])
        need = 2 ** len(TRUNK_CHANNELS)
        if size < need:
            raise ValueError('IIC needs images of at least %dx%d pixels, got %s'
                             % (need, need, 'x'.join(map(str, self.input_shape_))))

    def _prepare(self, x):
        colour = self._channels() > 1
        low, high = self._normalised_range(x)  # the transformations see normalised images
        unit = low >= 0 and high <= 1
        names = parse_augment(self.augment)
        if names == 'all':
            names = [n for n in AUGMENTATIONS if (colour or n != 'flip')
                     and (unit or n not in UNIT_RANGE_ONLY + ('noise',))]
        elif not unit:
            for name in UNIT_RANGE_ONLY:
                if name in names:
                    raise ParameterError(
                        'augment=%s needs images in [0, 1] after normalisation; with '
                        'normalize=%r these span [%.4g, %.4g]'
                        % (name, self.normalize, low, high))
        self.augment_ = tuple(names)
        self.unit_range_ = bool(unit)

    def _channels(self):
        stored, axes = image_layout(self.input_shape_)
        return stored[axes[1] - 1]

    def _build_net(self, rng):
        return IICNet(self.input_shape_, self.n_clusters, self.overclustering,
                      self.n_subheads, rng=rng)

    def _train(self, run, net, x, y):
        phase = self._train_starts(run, net, numpy.asarray(x, dtype=numpy.float32), y)
        self._read_subhead_losses(run, phase)

    def _copy_start_state(self, source, net):
        net.best_subhead = source.best_subhead

    def _train_phase(self, run, net, xf, y, name, epochs, extra):
        """Train ``net`` for ``epochs`` epochs as phase ``name``; returns the phase."""
        transform = make_transform(self.augment_, self.unit_range_)
        augment_state = run.sample_random_state(
            'train/augment' if name == 'train' else name + '/augment')
        loss = IICLoss(net, transform, augment_state, self.alpha, self.copies,
                       self.transform_both)
        keys = ['main/loss', 'main/loss_cluster'] + (
            ['main/loss_overcluster'] if self.overclustering else [])
        extensions = [(SubheadChooser(loss, run.distribution), {}), (JointPlot(loss), {})]
        per_epoch = max(1, len(xf) // self.batch_size)
        ramp = int(numpy.ceil(self.alpha_warmup * per_epoch))
        delay = int(numpy.ceil(self.alpha_delay * per_epoch))
        # the phase after n_init starts continues the chosen start's schedule
        offset = self.init_epochs * per_epoch if name == 'train' and self.n_init > 1 else 0
        scheduled = bool(ramp or delay) and self.alpha != 1
        if scheduled:
            extensions.append((AlphaWarmup(loss, self.alpha, ramp, delay, offset), {}))
        # metrics.png always: a snapshot then resumes whether or not labels are given
        plot_list = [('loss.png', keys),
                     ('subheads.png', ['main/cluster%d' % i for i in range(self.n_subheads)]),
                     ('metrics.png', ClusterMetricsReport.keys_for())]
        if y is not None:
            monitor = ClusterMetricsReport(
                net, xf, y, run.device, EpochIntervalTrigger(self.metrics_interval, epochs))
            extensions.append((monitor, {}))
            keys = keys + monitor.keys()
        params = {'n_clusters': self.n_clusters, 'alpha': self.alpha,
                  'overclustering': self.overclustering, 'n_subheads': self.n_subheads,
                  'copies': self.copies, 'augment': list(self.augment_),
                  'unit_range': self.unit_range_, 'epochs': self.epochs, 'lr': self.lr,
                  'batch_size': self.batch_size}
        if self.alpha_warmup:  # keyed only when used: earlier result folders still resume
            params['alpha_warmup'] = self.alpha_warmup
        if self.alpha_delay:
            params['alpha_delay'] = self.alpha_delay
        if offset and scheduled:
            params['alpha_offset'] = offset  # earlier versions restarted the schedule here
        params.update(extra)
        phase = Phase(name, loss, xf, Adam(alpha=self.lr),
                      (epochs, 'epoch'), self.batch_size, params=params,
                      order='drop_last' if len(xf) > self.batch_size else 'shuffle',
                      random_states={'augment': augment_state},
                      extensions=extensions, report_keys=keys, plots=plot_list)
        run.run(phase)
        return phase

    def _read_subhead_losses(self, run, phase):
        """Each clustering sub-head's mean loss in the last logged epoch."""
        last = starts.last_log_entry(run, phase)
        self.subhead_losses_ = [last.get('main/cluster%d' % i)
                                for i in range(self.n_subheads)] if last else None

    def predict_proba(self, X):
        """``(N, K)`` cluster probabilities from the chosen clustering sub-head."""
        return self.cluster_scores(X)

    def _report(self, out, x, y):
        image = plots.grey_image_shape(self.input_shape_)
        if y is not None:
            plots.heatmap_png(metrics.confusion_matrix(y, self.labels_),
                              os.path.join(out, 'confusion.png'), 'clusters against labels',
                              xlabel='label', ylabel='cluster', annotate='%d')
        if image is None:
            return
        plots.cluster_examples_png(x, self.labels_, image, os.path.join(out, 'clusters.png'))
        if self.overclustering:
            net = self.net_
            proba = batched_forward(net.overcluster_proba, x, device=net.device)
            plots.cluster_examples_png(x, proba.argmax(axis=1), image,
                                       os.path.join(out, 'overclusters.png'))

    def _extra_state(self):
        state = super(IIC, self)._extra_state()
        state['augment'] = list(getattr(self, 'augment_', ()))
        state['unit_range'] = getattr(self, 'unit_range_', None)
        if getattr(self, 'subhead_losses_', None) is not None:
            state['subhead_losses'] = self.subhead_losses_
        return state

    def _restore_state(self, info):
        super(IIC, self)._restore_state(info)
        self.augment_ = tuple(info.get('augment', ()))
        self.unit_range_ = info.get('unit_range')
        self.subhead_losses_ = info.get('subhead_losses')

