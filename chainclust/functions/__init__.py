"""Chainer FunctionNodes that define chainclust's methods."""
from chainclust.functions.dec_kl_divergence import dec_kl_divergence  # NOQA
from chainclust.functions.dec_kl_divergence import DECKLDivergence  # NOQA
from chainclust.functions.student_t_assignment import student_t_assignment  # NOQA
from chainclust.functions.student_t_assignment import StudentTAssignment  # NOQA
