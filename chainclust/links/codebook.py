"""A codebook of vectors as one Parameter, with nearest-code lookup."""
import chainer

from chainclust.functions import codebook_distance, vector_quantize
from chainclust.functions.codebook_distance import check_metric


class Codebook(chainer.Link):
    """``n_codes`` vectors of size ``dim`` and the metric that compares them.

    Args:
        n_codes (int): K, the quantization number (= number of clusters).
        dim (int): code size d (the encoder's output size).
        metric (str): ``'euclidean'`` or ``'cosine'``.
    """

    def __init__(self, n_codes, dim, metric='euclidean'):
        super(Codebook, self).__init__()
        if int(n_codes) < 1:
            raise ValueError('n_codes must be >= 1, got %r' % (n_codes,))
        self.n_codes, self.dim, self.metric = int(n_codes), int(dim), check_metric(metric)
        with self.init_scope():
            self.W = chainer.Parameter(chainer.initializers.Zero(), (self.n_codes, self.dim))

    def set_codes(self, codes):
        """Write ``codes`` ``(K, d)`` into the existing Parameter."""
        codes = self.xp.asarray(codes, dtype=self.W.dtype)
        if codes.shape != self.W.shape:
            raise ValueError('codes must have shape %s, got %s' % (self.W.shape, codes.shape))
        self.W.array[...] = codes

    def distances(self, e):
        """``(N, d)`` -> distances to every code ``(N, K)``."""
        return codebook_distance(e, self.W, self.metric)

    def forward(self, e, straight_through=False):
        """``(N, d)`` -> ``(q, index)``: nearest codes ``(N, d)`` and indices ``(N,)``."""
        return vector_quantize(e, self.W, self.metric, straight_through)
