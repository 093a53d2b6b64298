"""Chainer FunctionNodes that define chainclust's methods."""
from chainclust.functions.codebook_distance import codebook_distance  # NOQA
from chainclust.functions.codebook_distance import CodebookDistance  # NOQA
from chainclust.functions.dec_kl_divergence import dec_kl_divergence  # NOQA
from chainclust.functions.conditional_prior_kl import conditional_prior_kl  # NOQA
from chainclust.functions.conditional_prior_kl import ConditionalPriorKL  # NOQA
from chainclust.functions.dec_kl_divergence import DECKLDivergence  # NOQA
from chainclust.functions.gaussian_mixture_posterior import gaussian_mixture_posterior  # NOQA
from chainclust.functions.gaussian_mixture_posterior import GaussianMixturePosterior  # NOQA
from chainclust.functions.iic_loss import iic_loss, IICLoss  # NOQA
from chainclust.functions.quantizing_error import quantizing_error  # NOQA
from chainclust.functions.quantizing_error import QuantizingError  # NOQA
from chainclust.functions.student_t_assignment import student_t_assignment  # NOQA
from chainclust.functions.student_t_assignment import StudentTAssignment  # NOQA
from chainclust.functions.vector_quantize import vector_quantize, VectorQuantize  # NOQA
from chainclust.functions.z_prior_kl import z_prior_kl, ZPriorKL  # NOQA
from chainclust.functions.scalar_quantize import scalar_quantize, ScalarQuantize  # NOQA
from chainclust.functions.scalar_quantize import straight_through  # NOQA
from chainclust.functions.sparsity_kl import sparsity_kl, SparsityKL  # NOQA
from chainclust.functions.linear_relu import linear_relu, LinearReLU  # NOQA
from chainclust.functions.convolution import convolution_2d, GemmConvolution2D  # NOQA
from chainclust.functions.max_pooling import max_pooling_2x2, MaxPooling2x2  # NOQA
from chainclust.functions.batch_norm_relu import batch_norm_relu, BatchNormReLU  # NOQA
