"""``chainclust bakeoff``: the autoencoder family compared on six tasks (after ae_bakeoff).

:func:`run_bakeoff` trains every chosen member of
:data:`~chainclust.models.autoencoders.KINDS` on a training split, measures
them on the held-out split and writes, into one folder, a result folder per
model (``evaluate``/``export`` accept them; a second run reuses them),
the figures, ``results.json`` and the report as ``report.html`` and ``report.md``.
"""
import os
import time
import warnings

import numpy

from chainclust import metrics, plots
from chainclust.bakeoff import comparisons
from chainclust.bakeoff.report import write_reports
from chainclust.errors import ParameterError
from chainclust.estimators.autoencoder import Autoencoder
from chainclust.io import write_json
from chainclust.models.autoencoders import KINDS


def split_indices(n, test_size, seed):
    """``(train, test)`` index arrays: a seeded permutation cut at ``test_size``."""
    order = numpy.random.RandomState(seed).permutation(n)
    n_test = int(round(n * test_size))
    if not 2 <= n_test <= n - 2:
        raise ParameterError('test_size=%r of %d samples leaves fewer than 2 training or '
                             'held-out samples' % (test_size, n))
    return order[n_test:], order[:n_test]


def check_models(models):
    """``models`` as a list, or ParameterError naming the unknown ones."""
    models = list(models)
    unknown = [m for m in models if m not in KINDS]
    if unknown or not models:
        raise ParameterError('unknown autoencoder(s) %s; choose from %s'
                             % (', '.join(unknown) or '(none given)', ', '.join(KINDS)))
    return models


def run_bakeoff(dataset, out, models=tuple(KINDS), epochs=60, latent_dim=20,
                anomaly_latent_dim=2, anomaly_class=1, probe_labels=550, test_size=0.2,
                batch_size=256, lr=1e-3, n_clusters=None, dec=False, seed=0,
                device='@numpy', resume='auto', verbose=False, progress=None):
    """Train and compare autoencoders; write the report into ``out``.

    Args:
        dataset (chainclust.datasets.Dataset): samples in [0, 1] after
            normalisation (images: any), labels optional (without them the
            anomaly, probe and clustering comparisons are left out, and said so).
        out (str): the bake-off folder.
        models (sequence of str): members to compare, keys of ``KINDS``.
        epochs (int): training epochs of each model (ae_bakeoff: 60).
        latent_dim (int): code size (ae_bakeoff: 20).
        anomaly_latent_dim (int): code size of the anomaly models (ae_bakeoff: 2).
        anomaly_class (int): the label left out of the anomaly models' training.
        probe_labels (int): labelled training samples for the linear probe.
        test_size (float): held-out fraction.
        batch_size, lr: training of every model.
        n_clusters (int or None): k-means centres; the number of labels by default.
        dec (bool or dict): also run DEC from every member (``DEC(backbone=kind)``,
            its autoencoder trained again as above, in ``out/dec/KIND``) and score
            its held-out labels (needs labels); a dict gives further DEC
            parameters (e.g. ``{'max_iter': 2000}``).
        seed (int): split, training and sampling seed.
        device (str): Chainer device.
        resume (str): how every model's result folder is reused (``'auto'``,
            ``'changed'``, ``'never'``; see :class:`~chainclust.training.TrainingRun`).
        verbose (bool): progress bars of every training.
        progress (callable or None): called with one line per step done.

    Returns:
        dict: everything measured (also in ``out/results.json``).
    """
    models = check_models(models)
    say = progress or (lambda line: None)
    x, y = dataset.x, dataset.y
    train, test = split_indices(len(x), test_size, seed)
    labelled = y is not None
    if n_clusters is None:
        n_clusters = int(len(numpy.unique(y))) if labelled else 10
    few = train[:probe_labels]
    if labelled and len(numpy.unique(y[few])) < 2:
        raise ParameterError('the %d labelled samples of the linear probe hold one class; '
                             'raise probe_labels' % len(few))
    image = plots.grey_image_shape(x.shape[1:])
    figures = os.path.join(out, 'figures')
    os.makedirs(figures, exist_ok=True)
    results = {'dataset': dataset.name, 'n_train': int(len(train)), 'n_test': int(len(test)),
               'seed': seed, 'epochs': epochs, 'latent_dim': latent_dim,
               'batch_size': batch_size, 'lr': lr, 'n_clusters': n_clusters,
               'models': {}, 'notices': [], 'figures': {}}
    notices = results['notices']

    def fit(kind, folder, samples, dim, clusters):
        start = time.perf_counter()
        model = Autoencoder(n_clusters=clusters, kind=kind, latent_dim=dim, epochs=epochs,
                            lr=lr, batch_size=batch_size, random_state=seed, device=device,
                            out=os.path.join(out, folder, kind), resume=resume,
                            verbose=verbose)
        model.fit(samples)
        return model, time.perf_counter() - start

    fitted = {}
    for kind in models:
        say('training %s (latent %d, %d epochs)' % (kind, latent_dim, epochs))
        model, wall = fit(kind, 'models', x[train], latent_dim, n_clusters)
        fitted[kind] = model
        entry = results['models'].setdefault(kind, {})
        entry.update({'description': KINDS[kind].description, 'wall_s': wall,
                      'reconstruction_bce': comparisons.reconstruction_bce(model, x[test], seed),
                      'result_folder': os.path.join('models', kind)})
        if labelled:
            entry['kmeans'] = comparisons.clustering_scores(model, x[test], y[test])

    # 1-3: reconstructions, samples, interpolations (grey images only)
    if image is None:
        notices.append('samples are not grey images: no image figures')
    else:
        shown = x[test[:16]]
        rows = [shown.reshape(len(shown), -1)] + [
            fitted[k].reconstruct(shown).reshape(len(shown), -1) for k in models]
        _figure(results, 'reconstructions', 'held-out images (first row) and their '
                'reconstructions', lambda p: plots.image_grid_png(
                    rows, ['input'] + models, image, p), figures)
        generative = [k for k in models if fitted[k].net_.generative]
        if generative:
            rows = [fitted[k].sample(16, random_state=seed).reshape(16, -1)
                    for k in generative]
            _figure(results, 'samples', 'decoded draws from the prior of the generative '
                    'models', lambda p: plots.image_grid_png(rows, generative, image, p),
                    figures)
        else:
            notices.append('no generative model among those compared: no samples')
        a, b = x[test[0]], x[test[1]]
        rows = [fitted[k].interpolate(a, b, steps=12).reshape(12, -1) for k in models]
        _figure(results, 'interpolation', 'linear interpolation between two held-out '
                'images, taken before the bottleneck', lambda p: plots.image_grid_png(
                    rows, models, image, p), figures)

    # 4: latent structure
    colours = y[test] if labelled else fitted[models[0]].predict(x[test])
    method = _projection(notices)
    panels = [(k, method(fitted[k].encode(x[test]), seed)) for k in models]
    _figure(results, 'latent', 'held-out codes in 2-D (%s), coloured by %s'
            % (method.__doc__, 'label' if labelled else 'cluster of the first model'),
            lambda p: plots.scatter_panels_png(panels, colours, p,
                                               'label' if labelled else 'cluster'), figures)

    if not labelled:
        notices.append('no labels: anomaly detection, the linear probe, the clustering '
                       'scores%s are left out' % (' and DEC' if dec else ''))
    else:
        # 5: anomaly detection, trained without one class
        if anomaly_class not in set(numpy.unique(y).tolist()):
            notices.append('no sample has label %r: no anomaly detection' % anomaly_class)
        else:
            normal = train[y[train] != anomaly_class]
            curves = []
            for kind in models:
                say('training %s without label %r (latent %d)'
                    % (kind, anomaly_class, anomaly_latent_dim))
                model, _ = fit(kind, 'anomaly', x[normal], anomaly_latent_dim, n_clusters - 1)
                auc, fpr, tpr = comparisons.anomaly_roc(model, x[test],
                                                        y[test] == anomaly_class, seed)
                results['models'][kind]['anomaly_auc'] = auc
                curves.append((kind, fpr, tpr, auc))
            _figure(results, 'anomaly_roc', 'ROC of the reconstruction error as score of '
                    'label %r (left out of training)' % anomaly_class,
                    lambda p: plots.roc_png(curves, p, 'anomaly: label %r' % anomaly_class),
                    figures)
        # 6: linear probe with few labels, against the same encoder trained from scratch
        for kind in models:
            results['models'][kind]['linear_probe'] = comparisons.linear_probe(
                fitted[kind], x[few], y[few], x[test], y[test], seed)
        say('training the from-scratch baseline on %d labels' % len(few))
        results['probe_from_scratch'] = comparisons.from_scratch_accuracy(
            x[few], y[few], x[test], y[test], latent_dim, int(y.max()) + 1,
            os.path.join(out, 'probe_from_scratch'), seed, device=device, resume=resume,
            verbose=verbose)
        results['probe_labels'] = int(len(few))
        if dec:
            from chainclust.estimators.dec import DEC
            for kind in models:
                if kind == 'vq_vae':
                    notices.append('DEC does not start from vq_vae: its quantised code '
                                   'passes no gradient to the encoder')
                    continue
                say('DEC from the %s backbone' % kind)
                params = dict(n_clusters=n_clusters, backbone=kind, embedding_dim=latent_dim,
                              finetune_epochs=epochs, pretrain_lr=lr, batch_size=batch_size,
                              random_state=seed, device=device, verbose=verbose,
                              resume=resume, out=os.path.join(out, 'dec', kind))
                params.update(dec if isinstance(dec, dict) else {})
                model = DEC(**params).fit(x[train], y[train])
                results['models'][kind]['dec'] = metrics.evaluate(y[test],
                                                                  model.predict(x[test]))
        results['anomaly_class'] = anomaly_class
        results['anomaly_latent_dim'] = anomaly_latent_dim
    write_json(os.path.join(out, 'results.json'), results)
    write_reports(out, results)
    return results


def _figure(results, name, caption, draw, folder):
    path = os.path.join(folder, name + '.png')
    draw(path)
    results['figures'][name] = {'path': os.path.relpath(path, os.path.dirname(folder)),
                                'caption': caption}


def _projection(notices):
    """UMAP when umap-learn is installed, else PCA (said in the notices)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from umap import UMAP  # umap-learn; PyPI's unrelated 'umap' has no UMAP
    except ImportError:
        notices.append('umap-learn is not installed (pip install umap-learn): the latent '
                       'spaces are shown by their first two principal components')

        def pca(codes, seed):
            """PCA"""
            return plots.project_2d(codes)
        return pca

    def umap_2d(codes, seed):
        """UMAP"""
        if codes.shape[1] <= 2:
            return plots.project_2d(codes)
        with warnings.catch_warnings():  # "n_jobs overridden by random_state": wanted
            warnings.simplefilter('ignore', UserWarning)
            return UMAP(random_state=seed).fit_transform(codes)
    return umap_2d


__all__ = ['run_bakeoff', 'split_indices']
