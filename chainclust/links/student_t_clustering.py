"""Cluster centres as one Parameter, with DEC's Student's t soft assignment."""
import chainer

from chainclust.functions import student_t_assignment


class StudentTClustering(chainer.Link):
    """Holds centres ``mu`` ``(n_clusters, dim)`` and maps embeddings to ``q``.

    Args:
        n_clusters (int): number of clusters K.
        dim (int): embedding dimension d.
        alpha (float): degrees of freedom of the t kernel.
    """

    def __init__(self, n_clusters, dim, alpha=1.0):
        super(StudentTClustering, self).__init__()
        if int(n_clusters) < 1:
            raise ValueError('n_clusters must be >= 1, got %r' % (n_clusters,))
        self.n_clusters, self.dim, self.alpha = int(n_clusters), int(dim), float(alpha)
        with self.init_scope():
            self.mu = chainer.Parameter(
                chainer.initializers.Zero(), (self.n_clusters, self.dim))

    def set_centers(self, centers):
        """Write ``centers`` ``(K, d)`` into the existing Parameter (keeps the
        optimizer's reference valid)."""
        centers = self.xp.asarray(centers, dtype=self.mu.dtype)
        if centers.shape != self.mu.shape:
            raise ValueError('centers must have shape %s, got %s'
                             % (self.mu.shape, centers.shape))
        self.mu.array[...] = centers

    def forward(self, z):
        """``z``: ``(N, d)`` -> ``q``: ``(N, K)``."""
        return student_t_assignment(z, self.mu, self.alpha)
