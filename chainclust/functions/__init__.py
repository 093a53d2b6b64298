"""Chainer FunctionNodes that define chainclust's methods."""
from chainclust.functions.codebook_distance import codebook_distance  # NOQA
from chainclust.functions.codebook_distance import CodebookDistance  # NOQA
from chainclust.functions.dec_kl_divergence import dec_kl_divergence  # NOQA
from chainclust.functions.dec_kl_divergence import DECKLDivergence  # NOQA
from chainclust.functions.quantizing_error import quantizing_error  # NOQA
from chainclust.functions.quantizing_error import QuantizingError  # NOQA
from chainclust.functions.student_t_assignment import student_t_assignment  # NOQA
from chainclust.functions.student_t_assignment import StudentTAssignment  # NOQA
from chainclust.functions.vector_quantize import vector_quantize, VectorQuantize  # NOQA
