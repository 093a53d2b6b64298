"""IIC (Ji, Henriques and Vedaldi 2019): the network and the paired-view loss.

A convolutional trunk shared by two heads of fully connected layers: the
clustering head (K outputs) and the overclustering head (``overclustering * K``
outputs), each made of one or more independent sub-heads. Training makes the
softmax outputs of an image and of a randomly transformed copy agree, through
:func:`chainclust.functions.iic_loss`.
"""
import chainer
import chainer.functions as F
import numpy

from chainclust.functions import iic_loss, max_pooling_2x2
from chainclust.links import BatchNormalizationReLU, MLP
from chainclust.links.conv import Convolution2D
from chainclust.models.base import ClusteringNet

TRUNK_CHANNELS = (32, 64, 128)  # Conv-BN-ReLU-MaxPool blocks, then Conv 256-BN-ReLU
TRUNK_WIDTH = 256
HEAD_HIDDEN = (128, 64)


class ConvTrunk(chainer.Chain):
    """3x3 Conv-BN-ReLU-MaxPool(2) blocks, a last Conv-BN-ReLU, global average pooling.

    Input ``(N, C, H, W)``; output ``(N, width)``.
    """

    def __init__(self, in_channels, image_size, channels=TRUNK_CHANNELS, width=TRUNK_WIDTH,
                 initialW=None):
        super(ConvTrunk, self).__init__()
        size = tuple(int(s) for s in image_size)
        for _ in channels:
            size = tuple(s // 2 for s in size)
        if min(size) < 1:
            raise ValueError('images of %dx%d are too small for %d poolings (at least %dx%d '
                             'needed)' % (tuple(image_size) + (len(channels),)
                                          + (2 ** len(channels),) * 2))
        self.pooled_size, self.width = size, int(width)
        sizes = [int(in_channels)] + list(channels) + [int(width)]
        with self.init_scope():
            self.convs = chainer.ChainList(*[
                Convolution2D(a, b, 3, pad=1, initialW=initialW)
                for a, b in zip(sizes, sizes[1:])])
            self.norms = chainer.ChainList(*[BatchNormalizationReLU(b) for b in sizes[1:]])

    def forward(self, x):
        h = x
        blocks = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = norm(conv(h))
            if i < blocks:
                h = max_pooling_2x2(h)
        h = F.average_pooling_2d(h, self.pooled_size)
        return F.reshape(h, (h.shape[0], self.width))


class IICNet(ClusteringNet):
    """Trunk + clustering head + overclustering head, each with ``n_subheads`` sub-heads.

    Args:
        sample_shape (tuple): shape of one raw image sample (see
            :func:`~chainclust.models.base.image_layout`).
        n_clusters (int): K, the clustering head's outputs.
        overclustering (int): the overclustering head has ``overclustering * K``
            outputs (0: no overclustering head).
        n_subheads (int): independent sub-heads per head.
        rng (numpy.random.RandomState or None): draws the initial weights.

    Its score is ``proba`` from the clustering sub-head ``best_subhead`` (the one
    with the lowest loss, chosen during training); the embedding is the
    trunk's pooled features ``(N, 256)``.
    """

    score = 'proba'

    def __init__(self, sample_shape, n_clusters, overclustering=5, n_subheads=1, rng=None):
        super(IICNet, self).__init__(sample_shape, 'image')
        init = chainer.initializers.HeNormal(rng=rng)
        channels, height, width = self.image_shape
        self.n_clusters, self.overclustering = int(n_clusters), int(overclustering)
        self.n_subheads = int(n_subheads)
        with self.init_scope():
            self.trunk = ConvTrunk(channels, (height, width), initialW=init)
            self.heads = chainer.ChainList(*[
                MLP((TRUNK_WIDTH,) + HEAD_HIDDEN + (self.n_clusters,), initialW=init)
                for _ in range(self.n_subheads)])
            self.overheads = chainer.ChainList(*[
                MLP((TRUNK_WIDTH,) + HEAD_HIDDEN + (self.n_clusters * self.overclustering,),
                    initialW=init)
                for _ in range(self.n_subheads if self.overclustering else 0)])
        self.add_persistent('best_subhead', numpy.int64(0))

    def encode(self, h):
        return self.trunk(h)

    def assign_embedded(self, z):
        return F.softmax(self.heads[int(self.best_subhead)](z))

    def overcluster_proba(self, x):
        """Raw samples -> ``(N, overclustering * K)`` from the best overclustering sub-head."""
        return F.softmax(self.overheads[int(self.best_subhead)](self.embed(x)))


class IICLoss(chainer.Chain):
    """The mean over the two heads of the mean over their sub-heads of IIC's loss.

    For a batch ``x`` it draws ``copies`` transformed versions of every image
    (``transform``, from ``random_state``), runs the trunk once on the
    originals and the copies together, and pairs each original's softmax with
    each of its copies'. Reports ``loss``, ``loss_cluster``,
    ``loss_overcluster`` and every sub-head's loss (``cluster0``, ...); keeps
    the last batch's clustering joint distribution (best sub-head, on the
    device) in ``last_joint`` and sums each clustering sub-head's loss on the
    device for :meth:`take_subhead_losses`.

    Args:
        net (IICNet): the network.
        transform (chainclust.training.transforms.Transform): the random
            transformation.
        random_state (numpy.random.RandomState): draws the transformations.
        alpha (float): the marginal-entropy weight of :func:`iic_loss`.
        copies (int): transformed copies per image.
        transform_both (bool): the first view of each pair is a transformed
            image too (one draw per image), not the original.
    """

    def __init__(self, net, transform, random_state, alpha=1.0, copies=1,
                 transform_both=False):
        super(IICLoss, self).__init__()
        with self.init_scope():
            self.net = net
        self.transform, self.random_state = transform, random_state
        self.alpha, self.copies = float(alpha), int(copies)
        self.transform_both = bool(transform_both)
        self._subhead_sums = None
        self.last_joint = None

    def take_subhead_losses(self):
        """Each clustering sub-head's loss summed since the last call ``(n_subheads,)``; resets."""
        sums = self._subhead_sums
        self._subhead_sums = None
        if sums is None:
            return numpy.zeros(self.net.n_subheads)
        return chainer.backend.CpuDevice().send(sums).astype(numpy.float64)

    def _head_losses(self, heads, features, n, name, report):
        losses = []
        for i, head in enumerate(heads):
            out = F.softmax(head(features))
            z = F.tile(out[:n], (self.copies, 1))
            loss = iic_loss(z, out[n:], self.alpha)
            report['%s%d' % (name, i)] = loss
            losses.append(loss)
        return losses

    def forward(self, x):
        net = self.net
        with chainer.no_backprop_mode():
            h = net.preprocess(x).array
            copies = self.transform(net.xp.concatenate([h] * self.copies), self.random_state)
            if self.transform_both:
                h = self.transform(h, self.random_state)
        n = len(h)
        features = net.trunk(net.xp.concatenate([h, copies]))
        report = {}
        cluster = self._head_losses(net.heads, features, n, 'cluster', report)
        values = net.xp.stack([loss.array for loss in cluster])  # no device sync here
        self._subhead_sums = values if self._subhead_sums is None \
            else self._subhead_sums + values
        total = loss_cluster = sum(cluster) / len(cluster)
        report['loss_cluster'] = loss_cluster
        if len(net.overheads):
            over = self._head_losses(net.overheads, features, n, 'overcluster', report)
            report['loss_overcluster'] = sum(over) / len(over)
            total = (loss_cluster + report['loss_overcluster']) / 2
        report['loss'] = total
        report['alpha'] = self.alpha
        chainer.report(report, self)
        with chainer.no_backprop_mode():
            best = net.heads[int(net.best_subhead)]
            out = F.softmax(best(features)).array
            self.last_joint = out[:n].T.dot(out[n:2 * n]) / n
        return total
