"""Property-based tests (hypothesis): every loader and the estimators' inference either
work or raise one ChainclustError; nothing else escapes."""
import os
import tempfile

from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp
import numpy
import pytest

from chainclust import DEC, datasets
from chainclust.errors import ChainclustError

EXAMPLES = 100
# derandomize: the same examples on every run, so CI is reproducible; explore with
# other examples by running with settings(derandomize=False) or --hypothesis-seed.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
DTYPES = st.sampled_from(['uint8', 'int16', 'int64', 'float16', 'float32', 'float64', '>f8',
                          '>i4', 'bool', 'complex128'])
SHAPES = st.one_of(st.just(()), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0,
                                                 max_side=8))


@st.composite
def arrays(draw):
    dtype = numpy.dtype(draw(DTYPES))
    kwargs = {}
    if dtype.kind == 'f':
        kwargs['elements'] = st.floats(allow_nan=True, allow_infinity=True,
                                       width=8 * dtype.itemsize)
    return draw(hnp.arrays(dtype, draw(SHAPES), **kwargs))


def _load_or_refuse(path, **kwargs):
    try:
        data = datasets.load(path, **kwargs)
    except ChainclustError as e:
        assert '\n' not in str(e)
        return None
    assert data.x.ndim >= 2 and len(data.x) > 0
    assert data.x.dtype.isnative and data.x.dtype != bool
    return data


@SETTINGS
@given(x=arrays(), kind=st.sampled_from(['npy', 'npz', 'npz-with-labels']))
def test_npy_and_npz_loaders(x, kind):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'data.' + kind[:3])
        if kind == 'npy':
            numpy.save(path, x)
        else:
            labels = numpy.arange(len(x)) % 3 if x.ndim else numpy.zeros(1)
            numpy.savez(path, x=x, **({'y': labels} if kind.endswith('labels') else {}))
        _load_or_refuse(path)


@SETTINGS
@given(rows=st.lists(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 20, 10 ** 20),
    st.text(alphabet='ab,;"\n 1.e-', max_size=4)), max_size=5), max_size=6),
    header=st.booleans())
def test_csv_loader(rows, header):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'data.csv')
        with open(path, 'w') as f:
            if header:
                f.write('a,b,c\n')
            for row in rows:
                f.write(','.join(str(v) for v in row) + '\n')
        _load_or_refuse(path)


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(
    ['d.npy', 'd.npz', 'd.csv', 'd.idx', 'd-images-idx3-ubyte', 'd.gz', 'd.npy.gz']))
def test_any_bytes_under_any_name(data, name):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, 'wb') as f:
            f.write(data)
        _load_or_refuse(path)


@pytest.fixture(scope='module')
def fitted():
    digits = datasets.load('digits').subset(100, random_state=0)
    return DEC(n_clusters=3, hidden_dims=(8,), embedding_dim=2, finetune_epochs=1,
               batch_size=32, max_iter=5, update_interval=5, n_init=1,
               random_state=0).fit(digits.x)


@SETTINGS
@given(x=arrays())
def test_estimator_inference(fitted, x):
    for method in (fitted.predict, fitted.transform, fitted.predict_proba):
        try:
            out = method(x)
        except ChainclustError as e:
            assert '\n' not in str(e)
            continue
        assert len(out) == len(x)
