"""The ``chainclust`` command line: a thin click layer over the Python API."""
import functools
import inspect
import os
import sys
import traceback

import click

from chainclust._version import __version__
from chainclust.errors import ChainclustError


def _report_errors(fn):
    """Turn chainclust's user-facing errors into one-line click errors.

    Only chainclust's own error classes (and the operating system's, such as
    an --out this user cannot write) become one line; anything else is a bug
    and keeps its traceback, with a request to report it.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChainclustError as e:
            raise click.ClickException(str(e))
        except OSError as e:
            if e.strerror is None:
                raise
            raise click.ClickException('%s: %s' % (e.filename or 'file system', e.strerror))
        except Exception:
            traceback.print_exc()
            raise click.ClickException(
                'unexpected error: this is a bug in chainclust %s; please report it with the '
                'traceback above' % __version__)
    return wrapper


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(__version__, prog_name='chainclust')
def main():
    """Deep unsupervised clustering: train, evaluate, export, assign."""


@main.group()
def train():
    """Train a clustering model and write a result folder (one command per method)."""


def _apply(fn, decorators):
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def data_options(fn):
    return _apply(fn, [
        click.option('--data', default='mnist', show_default=True,
                     help="'mnist' (embedded), 'digits' (scikit-learn), 'pinwheel' (GMVAE's "
                          'synthetic arcs), or a path: '
                          '.npy, .npz, .csv, MNIST IDX (.gz), or a folder of images.'),
        click.option('--labels', default=None,
                     help='Optional labels file for evaluation (.npy, .csv, IDX).'),
        click.option('--label-column', default=None,
                     help='CSV only: name or index of the label column.'),
    ])


def _check_device(ctx, param, value):
    from chainclust.devices import DeviceError, get_device
    try:
        get_device(value, option='--device')
    except DeviceError as e:
        raise click.BadParameter(str(e).replace('--device ', '', 1), ctx, param)
    return value


device_option = click.option(
    '--device', default='@numpy', show_default=True, callback=_check_device,
    help="Chainer device: '@numpy' (CPU), '@cupy:N' (CUDA GPU N) or '@intel64'.")


def shared_options(cls):
    """The options every ``train METHOD`` command has, defined once."""
    from chainclust.distributed import COMMUNICATORS
    from chainclust.links.normalization import MODES
    from chainclust.training.run import RESUME_MODES
    from chainclust.cli_options import docstring_args
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    aliases = tuple(cls.cli_aliases.get('n_clusters', ()))
    return [
        click.option('--clusters', '-k', *(aliases + ('n_clusters',)),
                     type=click.IntRange(min=1), default=defaults['n_clusters'],
                     show_default=True,
                     help=docstring_args(cls).get('n_clusters', 'Number of clusters K.')),
        click.option('--out', '-o', type=click.Path(file_okay=False),
                     default=os.path.join('results', cls.method), show_default=True,
                     help='Result folder; an interrupted run in it resumes, finished phases '
                          'trained with the same data and settings are reused.'),
        device_option,
        click.option('--seed', 'random_state', type=click.IntRange(min=0), default=0,
                     show_default=True, help='Random seed (runs are reproducible on CPU).'),
        click.option('--normalize', type=click.Choice(MODES), default='auto',
                     show_default=True,
                     help='auto: scale255 for uint8 data, minmax otherwise.'),
        click.option('--limit', type=click.IntRange(min=1), default=None,
                     help='Train on a random subset of this many samples.'),
        click.option('--quiet', '-q', is_flag=True, help='No progress output.'),
        click.option('--resume', type=click.Choice(RESUME_MODES), default='auto',
                     show_default=True,
                     help='auto: reuse the finished phases in --out and resume an '
                          'interrupted one if trained with the same data and settings, '
                          'else stop with an error; changed: reuse those that match and '
                          'train again from the first that does not; never: train all.'),
        click.option('--force', is_flag=True, help='The same as --resume never.'),
        click.option('--communicator', type=click.Choice(COMMUNICATORS), default=None,
                     help='Train data-parallel on the processes of mpiexec -n N with this '
                          'ChainerMN communicator: naive (CPUs), flat or pure_nccl (GPUs, '
                          'one per process). Needs pip install chainclust[mpi].'),
    ]


def _train_command(cls):
    """``chainclust train METHOD``: shared options + the method's own, from its signature."""
    from chainclust.cli_options import method_options
    from chainclust.distributed import distribution_for, DistributedError
    from chainclust.estimators.base import SHARED_PARAMS

    def command(data, labels, label_column, limit, quiet, force, **params):
        if force:
            params['resume'] = 'never'
        from chainclust import datasets
        dataset = datasets.load(data, labels=labels, label_column=label_column)
        dataset = dataset.subset(limit, random_state=params['random_state'])
        distribution = distribution_for(params.pop('communicator'), params['device'])
        if distribution.parallel:
            if 'communicator' not in inspect.signature(cls.__init__).parameters:
                raise DistributedError('%s does not take a communicator (its estimator has '
                                       'no communicator parameter)' % cls.method)
            params['communicator'] = distribution
        model = cls(verbose=not quiet, **params)
        model.fit(dataset)
        if not distribution.is_root:
            return
        click.echo('wrote %s (model.npz, model.json, labels.npy, logs and plots)'
                   % params['out'])
        if distribution.parallel:
            click.echo('trained on %d processes' % distribution.size)
        for line in model.summary():
            click.echo(line)

    command.__doc__ = (cls.__doc__ or cls.method).strip().split('\n')[0]
    decorators = ([data_options] + shared_options(cls)
                  + method_options(cls, skip=SHARED_PARAMS) + [_report_errors])
    return train.command(cls.method)(_apply(command, decorators))


def _register_methods():
    from chainclust.estimators import ESTIMATORS
    for cls in ESTIMATORS.values():
        _train_command(cls)


def _load_model(result_dir, device):
    from chainclust.estimators import ESTIMATORS, read_model_info
    info = read_model_info(result_dir)
    if info['method'] not in ESTIMATORS:
        raise click.ClickException('%s: unknown method %r' % (result_dir, info['method']))
    return info, ESTIMATORS[info['method']].load(result_dir, device=device)


@main.command()
@click.argument('result_dir', type=click.Path())
@data_options
@device_option
@_report_errors
def evaluate(result_dir, data, labels, label_column, device):
    """Label data with a trained model and print ACC/NMI/ARI when labels exist.

    Without --data, the training data recorded in RESULT_DIR is used.
    """
    import numpy
    from chainclust import datasets, metrics
    from chainclust.estimators.base import fingerprint
    info, model = _load_model(result_dir, device)
    source = click.get_current_context().get_parameter_source('data')
    recorded = info.get('data', {})
    if source == click.core.ParameterSource.DEFAULT and recorded.get('source'):
        dataset = datasets.reload(recorded)
        now = fingerprint(dataset.x)
        if recorded.get('fingerprint') not in (None, now):
            click.echo('warning: %s changed since training (fingerprint %s then, %s now); '
                       'these labels and metrics are for the data as it is now'
                       % (dataset.name, recorded['fingerprint'], now), err=True)
    else:
        dataset = datasets.load(data, labels=labels, label_column=label_column)
    predicted = model.predict(dataset.x)
    sizes = numpy.bincount(predicted, minlength=model.n_clusters).tolist()
    click.echo('%s: %d samples from %s, %d clusters (sizes %s)'
               % (info['method'].upper(), len(predicted), dataset.name,
                  len(sizes), ' '.join(str(s) for s in sizes)))
    if dataset.y is None:
        click.echo('no labels: pass --labels to compute ACC/NMI/ARI')
    else:
        click.echo(metrics.format_metrics(metrics.evaluate(dataset.y, predicted)))


@main.command()
@click.argument('result_dir', type=click.Path())
@click.option('--onnx', 'onnx_path', required=True, type=click.Path(dir_okay=False),
              help='Where to write the ONNX assigner.')
@click.option('--opset', type=click.IntRange(min=17), default=17, show_default=True)
@click.option('--quantize', type=click.Choice(['int8']), default=None,
              help='Write an int8 model (weights and activations of the encoder; scales '
                   'calibrated on the training data, so labels do not depend on the batch).')
@click.option('--calibration-data', default=None,
              help='int8 only: samples to calibrate on (default: the training data '
                   'recorded in RESULT_DIR).')
@_report_errors
def export(result_dir, onnx_path, opset, quantize, calibration_data):
    """Export a trained model as one ONNX file: preprocessing, encoder and the
    assignment head, with outputs label, proba/distance and embedding."""
    from chainclust import datasets
    from chainclust.errors import DataError
    from chainclust_export import export_onnx
    info, model = _load_model(result_dir, '@numpy')
    calibration = None
    if quantize and calibration_data is not None:
        calibration = datasets.load(calibration_data).x
    elif quantize:
        if not info.get('data', {}).get('source'):
            raise DataError('%s does not record its training data; pass --calibration-data '
                            'for the int8 calibration' % result_dir)
        calibration = datasets.reload(info['data']).x
    export_onnx(model, onnx_path, opset, quantize=quantize, calibration=calibration)
    click.echo('wrote %s (%s, %d clusters, opset %d%s)'
               % (onnx_path, info['method'], model.n_clusters, opset,
                  ', int8' if quantize else ''))


@main.command()
@click.argument('model', type=click.Path(dir_okay=False))
@click.argument('data', type=click.Path())
@click.option('--output', '-o', required=True, type=click.Path(dir_okay=False),
              help='Labels file: .npy, .csv or .txt (written atomically).')
@click.option('--batch-size', type=click.IntRange(min=1), default=4096, show_default=True)
@click.option('--label-column', default=None, help='CSV only: a column to leave out.')
@click.option('--quiet', '-q', is_flag=True, help='No progress bar.')
@_report_errors
def assign(model, data, output, batch_size, label_column, quiet):
    """Label DATA with an exported MODEL.onnx (onnxruntime only; the same as
    the runtime's chainclust-assign)."""
    from chainclust_runtime.cli import assign_file, exit_on_sigterm, ProgressBar
    exit_on_sigterm()
    n = assign_file(model, data, output, batch_size, label_column,
                    None if quiet else ProgressBar())
    click.echo('wrote %d labels to %s' % (n, output))


def _model_list(ctx, param, value):
    from chainclust.bakeoff import check_models
    from chainclust.errors import ParameterError
    try:
        return check_models(m.strip() for m in value.split(',') if m.strip())
    except ParameterError as e:
        raise click.BadParameter(str(e), ctx, param)


def _all_kinds():
    from chainclust.models.autoencoders import KINDS
    return ','.join(KINDS)


@main.command()
@data_options
@click.option('--out', '-o', type=click.Path(file_okay=False), default='results/bakeoff',
              show_default=True, help='Bake-off folder: one result folder per model, the '
                                      'figures, results.json, report.html and report.md. '
                                      'Models already trained there are reused.')
@click.option('--models', default=_all_kinds(), show_default=True, callback=_model_list,
              help='Comma-separated autoencoders to compare.')
@click.option('--epochs', type=click.IntRange(min=0), default=60, show_default=True,
              help='Training epochs of every model (fewer for a quick look).')
@click.option('--latent-dim', type=click.IntRange(min=1), default=20, show_default=True)
@click.option('--anomaly-latent-dim', type=click.IntRange(min=1), default=2,
              show_default=True)
@click.option('--anomaly-class', type=int, default=1, show_default=True,
              help='The label left out of the anomaly models\' training.')
@click.option('--probe-labels', type=click.IntRange(min=2), default=550, show_default=True,
              help='Labelled training samples of the linear probe.')
@click.option('--test-size', type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.2, show_default=True, help='Held-out fraction.')
@click.option('--batch-size', type=click.IntRange(min=2), default=256, show_default=True)
@click.option('--dec', is_flag=True, help='Also run DEC from every model (its autoencoder '
                                           'trained again as DEC\'s backbone; needs labels).')
@click.option('--seed', type=click.IntRange(min=0), default=0, show_default=True)
@device_option
@click.option('--quiet', '-q', is_flag=True, help='No progress output.')
@click.option('--resume', type=click.Choice(['auto', 'changed', 'never']), default='auto',
              show_default=True, help='How the models already in --out are reused (as for '
                                      'train).')
@click.option('--force', is_flag=True, help='The same as --resume never.')
@_report_errors
def bakeoff(data, labels, label_column, out, models, epochs, latent_dim, anomaly_latent_dim,
            anomaly_class, probe_labels, test_size, batch_size, dec, seed, device, quiet,
            resume, force):
    """Compare the autoencoder family (after ae_bakeoff): reconstruction, samples,
    interpolation, latent structure, anomaly detection and a linear probe."""
    from chainclust import datasets
    from chainclust.bakeoff import run_bakeoff
    dataset = datasets.load(data, labels=labels, label_column=label_column)
    say = None if quiet else (lambda line: click.echo(line, err=True))
    run_bakeoff(dataset, out, models, epochs=epochs, latent_dim=latent_dim,
                anomaly_latent_dim=anomaly_latent_dim, anomaly_class=anomaly_class,
                probe_labels=probe_labels, test_size=test_size, batch_size=batch_size,
                dec=dec, seed=seed, device=device, resume='never' if force else resume,
                verbose=not quiet, progress=say)
    click.echo('wrote %s (report.html, report.md, results.json, figures/)'
               % os.path.join(out, 'report.html'))


_register_methods()

if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
