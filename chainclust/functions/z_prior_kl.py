"""GMVAE's z-prior term with the minimum-information constraint."""
import math

import chainer
from chainer import backend
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check


class ZPriorKL(function_node.FunctionNode):
    """``max(lambda, mean_n KL(p(z | x_n, w_n) || Uniform(K)))``.

    Args:
        information_lambda (float): the threshold; 0 gives the plain ELBO term.
    """

    def __init__(self, information_lambda=0.0):
        information_lambda = float(information_lambda)
        if not information_lambda >= 0 or math.isinf(information_lambda):
            raise ValueError('information_lambda must be a finite number >= 0, got %r'
                             % (information_lambda,))
        self.information_lambda = information_lambda

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('log_pz',))
        log_pz, = in_types
        type_check.expect(log_pz.dtype.kind == 'f', log_pz.ndim == 2)

    def forward(self, inputs):
        self.retain_inputs((0,))
        log_pz, = inputs
        xp = backend.get_array_module(log_pz)
        n, k = log_pz.shape
        kl = (xp.exp(log_pz) * (log_pz + math.log(k))).sum() / n
        self.active = bool(kl > self.information_lambda)  # the constraint's switch
        value = kl if self.active else self.information_lambda
        return xp.asarray(value, dtype=log_pz.dtype),

    def backward(self, indexes, grad_outputs):
        log_pz, = self.get_retained_inputs()
        g, = grad_outputs
        n, k = log_pz.shape
        if not self.active:  # below the threshold the term is the constant lambda
            return chainer.Variable(log_pz.xp.zeros(log_pz.shape, log_pz.dtype)),
        gb = F.broadcast_to(g, log_pz.shape) / n
        return gb * F.exp(log_pz) * (log_pz + (math.log(k) + 1)),


def z_prior_kl(log_pz, information_lambda=0.0):
    """The z-prior term of GMVAE with the minimum-information constraint.

    ``max(lambda, E[KL(p(z|x,w) || p(z))])`` with ``p(z)`` uniform over K and the
    expectation taken over the batch (Dilokthanakul et al. 2016, section 3.3). Its
    gradient is zero until the KL exceeds ``lambda``, so the z posterior is free to
    sharpen early in training; ``lambda = 0`` is the plain ELBO term.

    Args:
        log_pz: ``log p(z | x, w)`` ``(N, K)``.
        information_lambda (float): the threshold ``lambda >= 0``.

    Returns:
        ~chainer.Variable: a scalar.

    .. doctest::

        >>> import numpy
        >>> one_hot = numpy.log(numpy.array([[1.0, 1e-30]], 'f'))
        >>> round(float(z_prior_kl(one_hot).array), 4)  # log 2
        0.6931
        >>> float(z_prior_kl(one_hot, information_lambda=1.0).array)
        1.0
    """
    return ZPriorKL(information_lambda).apply((log_pz,))[0]
