"""What every chainclust estimator shares: scikit-learn's shape, fitting, model files.

A method is a subclass that declares its own parameters (``__init__`` and
``_parameter_constraints``), builds its network (a
:class:`~chainclust.models.ClusteringNet`) and trains it as a sequence of
:class:`~chainclust.training.Phase` objects in a
:class:`~chainclust.training.TrainingRun`. Everything else (validation,
seeding, resume, prediction, persistence, export, the command line) comes
from here and from the network protocol.
"""
import contextlib
import hashlib
import json
from numbers import Integral, Real
import os
import shutil
import tempfile
import warnings

import chainer
from chainer import serializers
import numpy
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils._param_validation import Interval, StrOptions

from chainclust import metrics
from chainclust._version import __version__
from chainclust.datasets import check_labels, check_samples, Dataset
from chainclust.devices import get_device
from chainclust.distributed import distribution_for, rank_device
from chainclust.errors import ChainclustError, DataError, ModelFileError, NotFittedError
from chainclust.errors import ParameterError
from chainclust.inference import batched_forward
from chainclust.io import atomic_path, load_npz, save_npy, write_json
from chainclust_runtime.validation import check_model_input
from chainclust.links.normalization import MODES as NORMALIZE_MODES
from chainclust.links.normalization import Normalization
from chainclust.training.random_states import random_stream
from chainclust.training.run import jsonable, RESUME_MODES, TrainingRun

MODEL_JSON = 'model.json'
MODEL_NPZ = 'model.npz'
LABELS_NPY = 'labels.npy'
FORMAT = 'chainclust-model'
FORMAT_VERSION = 2
SHARED_PARAMS = ('n_clusters', 'normalize', 'device', 'communicator', 'random_state', 'out',
                 'resume', 'verbose')
# Parameters that change where and how visibly a model trains, not what it learns.
RUN_PARAMS = ('device', 'communicator', 'out', 'resume', 'verbose')


@contextlib.contextmanager
def parameter_errors():
    """Re-raise a parameter check's ValueError as :class:`ParameterError`, which the
    command line prints as one line (other ValueErrors are bugs and keep their traceback)."""
    try:
        yield
    except ChainclustError:
        raise
    except ValueError as e:
        raise ParameterError(str(e)) from None


def fingerprint(x):
    """A short SHA-256 of an array's shape, dtype and bytes (identifies data)."""
    h = hashlib.sha256()
    h.update(repr((x.shape, str(x.dtype))).encode())
    h.update(numpy.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:16]


def positive_int():
    return [Interval(Integral, 1, None, closed='left')]


def non_negative_int():
    return [Interval(Integral, 0, None, closed='left')]


def unit_interval():
    """A number in [0, 1)."""
    return [Interval(Real, 0, 1, closed='left')]


def check_widths(name, widths):
    """Raise ValueError unless ``widths`` (layer sizes) are positive integers."""
    if not all(isinstance(w, Integral) and w > 0 for w in widths):
        raise ValueError('%s must be positive integers, got %r' % (name, widths))


def non_negative_float():
    return [Interval(Real, 0, None, closed='left')]


def positive_float():
    return [Interval(Real, 0, None, closed='neither')]


class ClusteringEstimator(ClusterMixin, TransformerMixin, BaseEstimator):
    """Base class of chainclust's estimators, scikit-learn estimators.

    ``__init__`` of a subclass only stores its keyword arguments. ``fit``
    validates them (``_parameter_constraints`` and ``_check_params``), builds
    the network (``_build_net``), trains it (``_train``) in a
    :class:`~chainclust.training.TrainingRun` on ``out`` and sets ``net_``,
    ``labels_``, ``metrics_`` (when labels are given), ``n_features_in_``,
    ``input_shape_`` and ``data_info_``.

    Subclasses define ``method`` (the registry name), the parameters shared by
    all methods (:data:`SHARED_PARAMS`) and their own, and may give
    ``cli_aliases`` (parameter -> extra command-line flags).
    """

    method = None
    cli_aliases = {}
    _parameter_constraints = {
        'n_clusters': positive_int(),
        'normalize': [StrOptions(set(NORMALIZE_MODES))],
        'device': [str, chainer.backend.Device],
        'communicator': 'no_validation',  # checked by distribution_for
        'random_state': ['random_state'],
        'out': [str, os.PathLike, None],
        'resume': [StrOptions(set(RESUME_MODES))],
        'verbose': ['boolean'],
    }

    # -- hooks for subclasses ---------------------------------------------
    def _check_params(self, n_samples):
        """Checks that involve several parameters or the data (after ``input_shape_``)."""
        if n_samples < self.n_clusters:
            raise ValueError('n_clusters=%d is more than the %d samples'
                             % (self.n_clusters, n_samples))

    def _prepare(self, x):
        """Settings derived from the raw training samples ``x``, before the network is built."""

    def _normalised_range(self, x):
        """``(min, max)`` of ``x`` after the normalisation ``normalize`` will fit on it."""
        link = Normalization(int(numpy.prod(x.shape[1:]))).fit(x, self.normalize)
        flat = x.reshape(len(x), -1)
        low, high = numpy.inf, -numpy.inf
        for start in range(0, len(x), 4096):
            h = link(flat[start:start + 4096].astype(numpy.float32)).array
            low, high = min(low, float(h.min())), max(high, float(h.max()))
        return low, high

    def _build_net(self, rng):
        """The untrained :class:`~chainclust.models.ClusteringNet`, weights drawn from ``rng``."""
        raise NotImplementedError

    def _train(self, run, net, x, y):
        """Train ``net`` on raw samples ``x`` (labels ``y`` or None) as phases of ``run``."""
        raise NotImplementedError

    def _after_fit(self, x):
        """Attributes derived from the trained network and ``labels_``."""

    def _report(self, out, x, y):
        """Write figures about the fitted model into its result folder ``out``."""

    def _extra_state(self):
        """JSON-serialisable state beyond the parameters (subclasses extend)."""
        state = {'normalization': {'mode': self.normalization_}}
        if getattr(self, 'metrics_', None) is not None:
            state['metrics'] = self.metrics_
        return state

    def _restore_state(self, info):
        self.normalization_ = info.get('normalization', {}).get('mode')
        self.metrics_ = info.get('metrics')

    def summary(self):
        """Lines describing the fitted model (the command line prints them)."""
        if self.metrics_ is None:
            return []
        return ['%-22s %s' % (self.method.upper() + ':', metrics.format_metrics(self.metrics_))]

    # -- fitting -----------------------------------------------------------
    def fit(self, X, y=None):
        """Cluster ``X``.

        Args:
            X: samples ``(N, ...)`` of real numbers, or a
                :class:`chainclust.datasets.Dataset` (its labels and where it
                came from are recorded too).
            y: optional labels ``(N,)``, only for the logged metrics.

        Returns:
            self
        """
        with parameter_errors():
            self._validate_params()
            for name, value in self.get_params(deep=False).items():
                if isinstance(value, Real) and not numpy.isfinite(value):
                    raise ValueError('%s must be a finite number, got %r' % (name, value))
        x, y, origin = self._unpack(X, y)
        x = as_samples(x)
        if len(x) < 2:
            raise DataError('X has 1 sample; clustering needs at least 2 samples')
        if y is not None:
            if type_of_target(y) == 'unknown':
                raise DataError('Unknown label type: y must be integer class labels (N,)')
            y = check_labels(y, len(x), name='y')
        # getattr: a method may leave the shared communicator parameter out (one process).
        distribution = distribution_for(getattr(self, 'communicator', None), self.device)
        with distribution.abort_on_error():
            return self._fit(x, y, origin, distribution)

    def _fit(self, x, y, origin, distribution):
        """:meth:`fit` after the checks of the arguments, on every rank of ``distribution``."""
        device = get_device(rank_device(self.device, distribution))
        self.n_features_in_ = int(numpy.prod(x.shape[1:]))
        self.input_shape_ = tuple(int(s) for s in x.shape[1:])
        self.input_dtype_ = str(x.dtype)
        self.data_info_ = dict(origin or {}, n_samples=int(len(x)), fingerprint=fingerprint(x))
        with parameter_errors():
            self._check_params(len(x))
        self._prepare(x)
        seed = distribution.bcast(self._seed())  # one seed for every rank
        net = self._build_net(random_stream(seed, 'init'))
        net.normalize.fit(x, self.normalize)
        self.normalization_ = net.normalize.mode
        device.use()
        net.to_device(device)
        # None: fresh randomness each run, so a resumed run is not reproducible
        # anyway; an int or a RandomState: the seed they give.
        key = {'data': self.data_info_['fingerprint'], 'method': self.method,
               'random_state': None if self.random_state is None else seed,
               'normalize': self.normalize}
        out = self.out if self.out is not None else tempfile.mkdtemp(prefix='chainclust-')
        writes = distribution.is_root and self.out is not None
        try:
            with TrainingRun(os.fspath(out), device, seed, key, self.resume,
                             self.verbose and distribution.is_root,
                             distribution=distribution) as run:
                self._train(run, net, x, y)
                self.net_ = net
                self.labels_ = distribution.map_rows(self.predict, x)
                self.metrics_ = None if y is None else metrics.evaluate(y, self.labels_)
                self._after_fit(x)
                if writes:
                    self.save(self.out)
                    self._write_figures(x, y)
        finally:
            if self.out is None:
                shutil.rmtree(out, ignore_errors=True)
        return self

    def _write_figures(self, x, y):
        """:meth:`_report` into ``out``; a failure is a warning (the model is saved)."""
        try:
            self._report(self.out, x, y)
        except Exception as error:  # figures are a by-product: never lose the model
            warnings.warn('%s: the figures could not be written (%s: %s); the model is '
                          'saved' % (self.out, type(error).__name__, error))

    def fit_predict(self, X, y=None):
        """``fit(X, y)`` then the labels of ``X``, ``(N,)`` int64."""
        return self.fit(X, y).labels_

    def _seed(self):
        """The run's seed: ``random_state`` itself when it is an int, a draw from
        it when it is a RandomState, fresh entropy from the operating system
        when it is None (NumPy's global generator is not used)."""
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        if self.random_state is None:
            return int(numpy.random.SeedSequence().entropy % (2 ** 63))
        return int(check_random_state(self.random_state).randint(2 ** 31 - 1))

    @staticmethod
    def _unpack(X, y):
        if isinstance(X, Dataset):
            return X.x, (X.y if y is None else y), X.origin
        return X, y, None

    # -- inference ---------------------------------------------------------
    def _check_fitted(self):
        if getattr(self, 'net_', None) is None:
            raise NotFittedError('this %s is not fitted yet; call fit first'
                                 % type(self).__name__)

    def _check_input(self, X):
        self._check_fitted()
        x, _, _ = self._unpack(X, None)
        x = as_samples(x, self.input_shape_, type(self).__name__)
        return check_model_input(x, self.input_dtype_)  # the runtime's rule

    def transform(self, X):
        """Embeddings ``(N, d)`` of samples ``X`` ``(N, ...)``."""
        x = self._check_input(X)
        return batched_forward(self.net_.embed, x, device=self.net_.device)

    def cluster_scores(self, X):
        """The network's score ``(N, K)``: probabilities or distances (``net_.score``)."""
        x = self._check_input(X)
        return batched_forward(self.net_, x, device=self.net_.device)

    def predict(self, X):
        """Cluster labels ``(N,)`` int64 of samples ``X``."""
        scores = self.cluster_scores(X)
        return self.net_.labels_from(scores)

    def __sklearn_is_fitted__(self):
        return getattr(self, 'net_', None) is not None

    # -- persistence -------------------------------------------------------
    def save(self, directory):
        """Write ``model.npz``, ``model.json`` and ``labels.npy`` (when fitted
        here) into ``directory``, each atomically."""
        self._check_fitted()
        os.makedirs(directory, exist_ok=True)
        with atomic_path(os.path.join(directory, MODEL_NPZ)) as tmp:
            serializers.save_npz(tmp, self.net_)
        params = self.get_params(deep=False)
        for name in RUN_PARAMS:
            if name != 'device':
                params.pop(name, None)
        if not isinstance(params.get('random_state'), (Integral, type(None))):
            params['random_state'] = None  # a RandomState object: not reproducible from JSON
        params['device'] = str(params['device'])
        info = {'format': FORMAT, 'format_version': FORMAT_VERSION,
                'chainclust_version': __version__, 'method': self.method,
                'params': jsonable(params),
                'input': {'shape': list(self.input_shape_), 'dtype': self.input_dtype_},
                'data': jsonable(self.data_info_)}
        info.update(self._extra_state())
        if getattr(self, 'labels_', None) is not None:
            save_npy(os.path.join(directory, LABELS_NPY), self.labels_)
        write_json(os.path.join(directory, MODEL_JSON), info)

    @classmethod
    def load(cls, directory, device=None):
        """Rebuild a fitted estimator from a folder written by :meth:`save`."""
        info = read_model_info(directory)
        if info['method'] != cls.method:
            raise ModelFileError('%s holds a %s model, not %s'
                                 % (directory, info['method'], cls.method))
        params = dict(info['params'])
        if device is not None:
            params['device'] = device
        for key, value in params.items():
            if isinstance(value, list):
                params[key] = tuple(value)
        try:
            self = cls(**params)
            self._validate_params()
        except (TypeError, ValueError) as e:
            raise ModelFileError('%s: parameters do not fit %s (%s)'
                                 % (directory, cls.__name__, e))
        self.input_shape_ = tuple(info['input']['shape'])
        self.input_dtype_ = info['input']['dtype']
        self.n_features_in_ = int(numpy.prod(self.input_shape_))
        self.data_info_ = info.get('data', {})
        self._restore_state(info)
        net = self._build_net(numpy.random.RandomState(0))  # weights come from the file
        load_npz(os.path.join(directory, MODEL_NPZ), net)
        net.normalize.mode = self.normalization_
        net.to_device(get_device(self.device))
        self.net_ = net
        return self


def as_samples(X, sample_shape=None, owner=None):
    """``X`` as a validated NumPy sample array, or an error that says what is wrong.

    Adds to :func:`chainclust.datasets.check_samples` what users of the Python
    API can pass: sparse matrices, object arrays, array-likes, complex numbers,
    a single flat sample. The messages follow scikit-learn's wording.
    """
    import scipy.sparse
    if scipy.sparse.issparse(X):
        raise DataError('X is a sparse matrix; sparse input is not supported, '
                        'pass a dense array (X.toarray())')
    x = numpy.asarray(X)
    if x.dtype == object:
        try:
            x = x.astype(numpy.float64)
        except (TypeError, ValueError) as e:
            raise TypeError('X holds values that are not numbers (%s)' % e)
    if numpy.iscomplexobj(x):
        raise DataError('X has dtype %s: Complex data not supported' % x.dtype)
    if x.ndim == 1:
        raise DataError('X must have shape (n_samples, n_features, ...), got %s; Reshape your '
                        'data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one '
                        'sample' % (x.shape,))
    if x.ndim == 2 and x.shape[1] == 0:
        raise DataError('X has 0 feature(s) (shape=%s) while a minimum of 1 is required.'
                        % (x.shape,))
    if sample_shape is not None:
        shape = tuple(sample_shape)
        if len(shape) == 1 and x.ndim == 2 and x.shape[1] != shape[0]:
            raise DataError('X has %d features, but %s is expecting %d features as input'
                            % (x.shape[1], owner, shape[0]))
    return check_samples(x, name='X', sample_shape=sample_shape)


def _check_field_types(info, path):
    """Raise ModelFileError naming each field of ``model.json`` with a wrong type."""
    def is_shape(v):
        return isinstance(v, list) and all(isinstance(d, int) and d > 0 for d in v)

    def is_dtype(v):
        try:
            return isinstance(v, str) and numpy.dtype(v).kind in 'biuf'
        except TypeError:
            return False
    checks = [('method', str, lambda v: True), ('params', dict, lambda v: True),
              ('input', dict, lambda v: True)]
    wrong = [name for name, kind, ok in checks
             if not isinstance(info.get(name), kind) or not ok(info.get(name))]
    if isinstance(info.get('input'), dict):
        if not is_shape(info['input'].get('shape')):
            wrong.append('input.shape (a list of positive integers)')
        if not is_dtype(info['input'].get('dtype')):
            wrong.append('input.dtype (a numeric dtype name)')
    for name in ('data', 'normalization'):
        if name in info and not isinstance(info[name], dict):
            wrong.append(name)
    if info.get('metrics') is not None and not isinstance(info['metrics'], dict):
        wrong.append('metrics')
    if wrong:
        raise ModelFileError('%s has fields of the wrong type: %s' % (path, ', '.join(wrong)))


def read_model_info(directory):
    """Read and check ``model.json`` of a result folder; return it as a dict."""
    path = os.path.join(directory, MODEL_JSON)
    if not os.path.isdir(directory):
        raise ModelFileError('no such result folder: %s' % directory)
    if not os.path.exists(path):
        raise ModelFileError('%s is not a chainclust result folder (no %s)'
                             % (directory, MODEL_JSON))
    try:
        with open(path) as f:
            info = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError('%s is corrupt (%s)' % (path, e))
    if not isinstance(info, dict) or info.get('format') != FORMAT:
        raise ModelFileError('%s is not a chainclust model description' % path)
    if info.get('format_version') != FORMAT_VERSION:
        raise ModelFileError('%s has format version %r; this chainclust reads %d '
                             '(train the model again with this version)'
                             % (path, info.get('format_version'), FORMAT_VERSION))
    for key in ('method', 'params', 'input'):
        if key not in info:
            raise ModelFileError('%s lacks %r' % (path, key))
    _check_field_types(info, path)
    if not os.path.exists(os.path.join(directory, MODEL_NPZ)):
        raise ModelFileError('%s has no %s' % (directory, MODEL_NPZ))
    return info
