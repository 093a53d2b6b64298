"""Property-based tests (hypothesis): whatever array or file a user gives the runtime,
it labels it or says what is wrong in one ChainclustError; it never raises anything
else and never changes an existing output file when it fails."""
import os
import tempfile

from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp
import numpy
import pytest

from chainclust_runtime import Assigner, ChainclustError
from chainclust_runtime.cli import assign_file

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
MODEL = os.path.join(DATA, 'dec_digits.onnx')
EXAMPLES = 100
# derandomize: the same examples on every run, so CI is reproducible; explore with
# other examples by running with settings(derandomize=False) or --hypothesis-seed.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

DTYPES = st.sampled_from(['uint8', 'int8', 'int16', 'int64', 'float16', 'float32', 'float64',
                          '>f8', '>i4', 'bool', 'complex64'])
SHAPES = st.one_of(
    st.just(()), hnp.array_shapes(min_dims=1, max_dims=1, max_side=70),
    st.tuples(st.integers(0, 9), st.just(8), st.just(8)),  # right sample shape
    hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=9))


@st.composite
def arrays(draw):
    dtype = numpy.dtype(draw(DTYPES))
    shape = draw(SHAPES)
    if dtype.kind == 'f':
        elements = st.floats(allow_nan=True, allow_infinity=True, width=8 * dtype.itemsize)
        if draw(st.booleans()):  # mostly plausible grey levels
            elements = st.floats(0, 255, width=8 * dtype.itemsize)
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


@pytest.fixture(scope='module')
def assigner():
    return Assigner(MODEL)


@SETTINGS
@given(x=arrays())
def test_assigner_labels_or_refuses(assigner, x):
    try:
        labels = assigner.predict(x)
    except ChainclustError as e:
        assert '\n' not in str(e)
        return
    n = 1 if x.shape == assigner.input_shape else x.shape[0]  # one sample: a batch of one
    assert labels.shape == (n,) and labels.dtype == numpy.int64
    assert ((labels >= 0) & (labels < assigner.n_clusters)).all()


@SETTINGS
@given(x=arrays(), suffix=st.sampled_from(['.npy', '.csv', '.txt']),
       batch=st.integers(1, 50))
def test_assign_file_never_damages_an_existing_output(x, suffix, batch):
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, 'data.npy')
        numpy.save(data, x)
        out = os.path.join(folder, 'labels' + suffix)
        with open(out, 'wb') as f:
            f.write(b'previous labels')
        try:
            n = assign_file(MODEL, data, out, batch_size=batch)
        except ChainclustError:
            with open(out, 'rb') as f:
                assert f.read() == b'previous labels'
        else:
            assert n == x.shape[0] > 0
        assert sorted(os.listdir(folder)) == ['data.npy', 'labels' + suffix]
