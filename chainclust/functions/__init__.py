"""Chainer FunctionNodes that define chainclust's methods."""
from chainclust.functions.kl_divergence import kl_divergence, KLDivergence  # NOQA
from chainclust.functions.student_t_assignment import student_t_assignment  # NOQA
from chainclust.functions.student_t_assignment import StudentTAssignment  # NOQA
