"""The ``chainclust`` command line: a thin click layer over the Python API."""
import functools
import json
import os
import sys

import click

from chainclust._version import __version__
from chainclust.errors import ChainclustError


def _report_errors(fn):
    """Turn chainclust's user-facing errors into one-line click errors."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChainclustError as e:
            raise click.ClickException(str(e))
        except ValueError as e:  # invalid hyper-parameters from the estimators
            raise click.ClickException(str(e))
    return wrapper


def _format_metrics(values):
    return '  '.join('%s %.4f' % (k.upper(), values[k])
                     for k in ('acc', 'nmi', 'ari', 'many_to_one') if k in values)


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(__version__, prog_name='chainclust')
def main():
    """Deep unsupervised clustering: train, evaluate, export, assign."""


@main.group()
def train():
    """Train a clustering model and write a result folder."""


def data_options(fn):
    for decorator in reversed([
        click.option('--data', default='mnist', show_default=True,
                     help="'mnist' (embedded), 'digits' (scikit-learn), or a path: "
                          '.npy, .npz, .csv, MNIST IDX (.gz), or a folder of images.'),
        click.option('--labels', default=None,
                     help='Optional labels file for evaluation (.npy, .csv, IDX).'),
        click.option('--label-column', default=None,
                     help='CSV only: name or index of the label column.'),
    ]):
        fn = decorator(fn)
    return fn


@train.command('dec')
@data_options
@click.option('--clusters', '-k', type=click.IntRange(min=1), default=10, show_default=True,
              help='Number of clusters.')
@click.option('--out', '-o', type=click.Path(file_okay=False), default='results/dec',
              show_default=True,
              help='Result folder; an interrupted run in it resumes.')
@click.option('--device', default='@numpy', show_default=True,
              help="Chainer device: '@numpy' or '@cupy:0'.")
@click.option('--seed', type=int, default=0, show_default=True, help='Random seed.')
@click.option('--hidden', default='500,500,2000', show_default=True,
              help='Encoder hidden widths, comma-separated.')
@click.option('--embedding-dim', type=click.IntRange(min=1), default=10, show_default=True)
@click.option('--alpha', type=float, default=1.0, show_default=True,
              help="Student's t degrees of freedom.")
@click.option('--pretrain-epochs', type=click.IntRange(min=0), default=0, show_default=True,
              help='Epochs per layer of greedy denoising pretraining (0 skips it).')
@click.option('--finetune-epochs', type=click.IntRange(min=0), default=120, show_default=True,
              help='Epochs of end-to-end autoencoder training.')
@click.option('--batch-size', type=click.IntRange(min=1), default=256, show_default=True)
@click.option('--update-interval', type=click.IntRange(min=1), default=140,
              show_default=True, help='Iterations between target-distribution updates.')
@click.option('--tol', type=float, default=0.001, show_default=True,
              help='Stop when fewer than this fraction of labels change.')
@click.option('--max-iter', type=click.IntRange(min=1), default=20000, show_default=True)
@click.option('--augment', type=click.Choice(['auto', 'affine', 'none']), default='auto',
              show_default=True,
              help='affine: train the autoencoder on randomly shifted and rotated images '
                   '(as DEC-DA); auto: affine for image data; none: no augmentation.')
@click.option('--normalize', type=click.Choice(
    ['auto', 'scale255', 'minmax', 'standard', 'none']), default='auto', show_default=True)
@click.option('--limit', type=click.IntRange(min=1), default=None,
              help='Train on a random subset of this many samples.')
@click.option('--quiet', '-q', is_flag=True, help='No progress output.')
@_report_errors
def train_dec(data, labels, label_column, clusters, out, device, seed, hidden,
              embedding_dim, alpha, pretrain_epochs, finetune_epochs, batch_size,
              update_interval, tol, max_iter, augment, normalize, limit, quiet):
    """Deep Embedded Clustering (Xie et al. 2016)."""
    from chainclust.estimators import DEC
    hidden_dims = _widths(hidden)
    dataset = _load_training_data(data, labels, label_column, limit, seed)
    model = DEC(n_clusters=clusters, hidden_dims=hidden_dims, embedding_dim=embedding_dim,
                alpha=alpha, pretrain_epochs=pretrain_epochs,
                finetune_epochs=finetune_epochs, batch_size=batch_size,
                update_interval=update_interval, tol=tol, max_iter=max_iter,
                augment=augment, normalize=normalize, device=device, random_state=seed, out=out,
                verbose=not quiet)
    model.fit(dataset.x, dataset.y)
    _finish_training(model, out, data, labels, label_column, limit, seed)


@train.command('vqae')
@data_options
@click.option('--codes', '-k', type=click.IntRange(min=1), default=10, show_default=True,
              help='Quantization number: codebook size = number of clusters.')
@click.option('--metric', type=click.Choice(['euclidean', 'cosine']), default='euclidean',
              show_default=True, help='How codes are compared with encoder outputs.')
@click.option('--variant', type=click.Choice(['study', 'vqvae']), default='study',
              show_default=True,
              help="study: decoder sees E, codebook pulled to SG(E); vqvae: decoder sees Q "
                   "(straight-through) plus a commitment term.")
@click.option('--beta', type=float, default=0.25, show_default=True,
              help='VQ-VAE commitment weight.')
@click.option('--init', 'init', type=click.Choice(['pretrained', 'untrained']),
              default='pretrained', show_default=True,
              help='Draw the initial codebook from a pretrained or an untrained encoder.')
@click.option('--out', '-o', type=click.Path(file_okay=False), default='results/vqae',
              show_default=True, help='Result folder; an interrupted run in it resumes.')
@click.option('--device', default='@numpy', show_default=True)
@click.option('--seed', type=int, default=0, show_default=True)
@click.option('--hidden', default='512,256', show_default=True,
              help='Encoder hidden widths, comma-separated.')
@click.option('--code-dim', type=click.IntRange(min=1), default=64, show_default=True)
@click.option('--pretrain-epochs', type=click.IntRange(min=0), default=20, show_default=True)
@click.option('--epochs', type=click.IntRange(min=0), default=50, show_default=True)
@click.option('--lr', type=float, default=1e-3, show_default=True)
@click.option('--batch-size', type=click.IntRange(min=1), default=1024, show_default=True)
@click.option('--monitor-interval', type=click.IntRange(min=1), default=10, show_default=True,
              help='Epochs between usage histograms and image grids.')
@click.option('--tensorboard', is_flag=True, help='Also write TensorBoard events.')
@click.option('--normalize', type=click.Choice(
    ['auto', 'scale255', 'minmax', 'standard', 'none']), default='auto', show_default=True)
@click.option('--limit', type=click.IntRange(min=1), default=None)
@click.option('--quiet', '-q', is_flag=True)
@_report_errors
def train_vqae(data, labels, label_column, codes, metric, variant, beta, init, out, device,
               seed, hidden, code_dim, pretrain_epochs, epochs, lr, batch_size,
               monitor_interval, tensorboard, normalize, limit, quiet):
    """VQ-AE clustering: quantize encoder outputs to a codebook (Shimomura 2021)."""
    from chainclust.estimators import VQAE
    dataset = _load_training_data(data, labels, label_column, limit, seed)
    model = VQAE(n_codes=codes, metric=metric, variant=variant, beta=beta, init=init,
                 hidden_dims=_widths(hidden), code_dim=code_dim,
                 pretrain_epochs=pretrain_epochs, epochs=epochs, lr=lr,
                 batch_size=batch_size, monitor_interval=monitor_interval,
                 tensorboard=tensorboard, normalize=normalize, device=device,
                 random_state=seed, out=out, verbose=not quiet)
    model.fit(dataset.x, dataset.y)
    _finish_training(model, out, data, labels, label_column, limit, seed)
    click.echo('codes used: %d of %d' % (codes - model.dead_codes_, codes))


def _widths(text):
    try:
        return tuple(int(h) for h in text.split(',') if h.strip())
    except ValueError:
        raise click.BadParameter('comma-separated integers expected', param_hint='--hidden')


def _load_training_data(data, labels, label_column, limit, seed):
    from chainclust import datasets
    dataset = datasets.load(data, labels=labels, label_column=label_column)
    return dataset.subset(limit, random_state=seed)


def _finish_training(model, out, data, labels, label_column, limit, seed):
    """Record the data source, write labels.npy and print the metrics."""
    from chainclust.io import save_npy
    _record_data(out, data, labels, label_column, limit, seed)
    save_npy(os.path.join(out, 'labels.npy'), model.labels_)
    click.echo('wrote %s (model.npz, model.json, labels.npy, logs and plots)' % out)
    if model.metrics_ is not None:
        initial = getattr(model, 'init_metrics_', None)
        if initial is not None:
            click.echo('autoencoder + k-means: %s' % _format_metrics(initial))
        click.echo('%-22s %s' % (model.method.upper() + ':', _format_metrics(model.metrics_)))


def _absolute(path):
    """An absolute path, or the name of an embedded dataset as it is."""
    from chainclust.datasets.embedded import EMBEDDED
    if path is None or (path in EMBEDDED and not os.path.exists(path)):
        return path
    return os.path.abspath(path)


def _record_data(out, data, labels, label_column, limit, seed):
    """Remember where the training data came from, for ``evaluate``."""
    from chainclust.estimators.base import MODEL_JSON
    from chainclust.io import write_json
    path = os.path.join(out, MODEL_JSON)
    with open(path) as f:
        info = json.load(f)
    info['data'].update({'source': _absolute(data), 'labels': _absolute(labels),
                         'label_column': label_column, 'limit': limit, 'seed': seed})
    write_json(path, info)


@main.command()
@click.argument('result_dir', type=click.Path())
@data_options
@click.option('--device', default='@numpy', show_default=True)
@_report_errors
def evaluate(result_dir, data, labels, label_column, device):
    """Label data with a trained model and print ACC/NMI/ARI when labels exist.

    Without --data, the training data recorded in RESULT_DIR is used.
    """
    import numpy
    from chainclust import datasets, metrics
    from chainclust.estimators import ESTIMATORS, read_model_info
    info = read_model_info(result_dir)
    if info['method'] not in ESTIMATORS:
        raise click.ClickException('%s: unknown method %r' % (result_dir, info['method']))
    model = ESTIMATORS[info['method']].load(result_dir, device=device)
    source = click.get_current_context().get_parameter_source('data')
    recorded = info.get('data', {})
    if source == click.core.ParameterSource.DEFAULT and recorded.get('source'):
        dataset = datasets.load(recorded['source'], labels=recorded.get('labels'),
                                label_column=recorded.get('label_column'))
        dataset = dataset.subset(recorded.get('limit'), random_state=recorded.get('seed'))
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
        click.echo(_format_metrics(metrics.evaluate(dataset.y, predicted)))


@main.command()
@click.argument('result_dir', type=click.Path())
@click.option('--onnx', 'onnx_path', required=True, type=click.Path(dir_okay=False),
              help='Where to write the ONNX assigner.')
@click.option('--opset', type=click.IntRange(min=17), default=17, show_default=True)
@click.option('--quantize', type=click.Choice(['int8']), default=None,
              help='Write a dynamically quantized model (int8 weights).')
@_report_errors
def export(result_dir, onnx_path, opset, quantize):
    """Export a trained model as one ONNX file: preprocessing, encoder and the
    assignment head, with outputs label, proba/distance and embedding."""
    from chainclust.estimators import ESTIMATORS, read_model_info
    from chainclust_export import export_onnx
    info = read_model_info(result_dir)
    if info['method'] not in ESTIMATORS:
        raise click.ClickException('%s: unknown method %r' % (result_dir, info['method']))
    model = ESTIMATORS[info['method']].load(result_dir, device='@numpy')
    export_onnx(model, onnx_path, opset, quantize=quantize)
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
    from chainclust_runtime.cli import assign_file, ProgressBar
    n = assign_file(model, data, output, batch_size, label_column,
                    None if quiet else ProgressBar())
    click.echo('wrote %d labels to %s' % (n, output))


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
