"""The bake-off report: the same tables and figures as ``report.md`` and ``report.html``."""
import html
import os

from chainclust.io import atomic_path

# ae_bakeoff's MNIST results (github.com/tilman151/ae_bakeoff, results/mnist), for
# comparison when the bake-off runs on MNIST: summed BCE on the 10k test images
# (32x32-padded), linear-probe accuracy with 550 labels.
STUDY_MNIST = {
    'reconstruction_bce': {'shallow': 123.2, 'deep': 63.92, 'stacked': 87.87,
                           'sparse': 64.27, 'denoising': 75.15, 'vae': 76.12,
                           'beta_vae_strict': 86.12, 'beta_vae_loose': 69.51,
                           'vq_vae': 64.49},
    'linear_probe': {'shallow': .4511, 'deep': .7835, 'stacked': .6107, 'sparse': .2221,
                     'denoising': .8049, 'vae': .6016, 'beta_vae_strict': .4536,
                     'beta_vae_loose': .6311, 'vq_vae': .7717},
    'probe_from_scratch': 0.4364,
}


def _number(value, digits):
    return '' if value is None else '%.*f' % (digits, value)


def tables(results):
    """``[(title, header, rows, note)]``: every table of the report, cells as strings."""
    models = results['models']
    study = STUDY_MNIST if results['dataset'] == 'mnist' else None
    out = []
    header = ['model', 'what it is', 'held-out BCE'] + (['ae_bakeoff (MNIST)'] if study
                                                          else []) + ['training s']
    rows = []
    for kind, m in models.items():
        row = [kind, m['description'], _number(m['reconstruction_bce'], 2)]
        if study:
            row.append(_number(study['reconstruction_bce'].get(kind), 2))
        rows.append(row + ['%.0f' % m['wall_s']])
    note = ('Binary cross-entropy summed over the features of each held-out sample, averaged '
            'over samples; the Gaussian models decode a posterior sample, as the study '
            'measures.')
    if study:
        note += ' The study padded MNIST to 32x32 (1,024 pixels; ours are 28x28).'
    out.append(('Reconstruction', header, rows, note))
    if 'probe_from_scratch' in results:
        header = ['model', 'linear probe accuracy'] + (['ae_bakeoff (MNIST)'] if study else [])
        rows = []
        for kind, m in models.items():
            row = [kind, _number(m.get('linear_probe'), 4)]
            if study:
                row.append(_number(study['linear_probe'].get(kind), 4))
            rows.append(row)
        row = ['encoder trained from scratch', _number(results['probe_from_scratch'], 4)]
        if study:
            row.append(_number(study['probe_from_scratch'], 4))
        rows.append(row)
        out.append(('Linear probe with %d labels' % results['probe_labels'], header, rows,
                    'A multinomial logistic regression on the frozen codes of %d labelled '
                    'training images, scored on the held-out images; the last row trains the '
                    "deep model's encoder and a linear layer on the same labels only."
                    % results['probe_labels']))
        with_dec = all('dec' in m for m in models.values())
        header = ['model', 'ACC', 'NMI', 'ARI'] + (['DEC ACC', 'DEC NMI', 'DEC ARI']
                                                   if with_dec else [])
        rows = []
        for kind, m in models.items():
            scores = [m['kmeans']] + ([m['dec']] if with_dec else [])
            rows.append([kind] + [_number(s[key], 4) for s in scores
                                  for key in ('acc', 'nmi', 'ari')])
        note = ('k-means with %d centres fitted on the training codes; held-out labels scored '
                'by Hungarian accuracy, NMI and ARI.' % results['n_clusters'])
        if with_dec:
            note += (' DEC: the same member trained again as DEC\'s backbone, then DEC\'s '
                     'k-means initialisation and self-training on the training images.')
        out.append(('Clustering the codes: k-means%s' % (' and DEC' if with_dec else ''),
                    header, rows, note))
    if any('anomaly_auc' in m for m in models.values()):
        header = ['model', 'anomaly AUC']
        rows = [[kind, _number(m.get('anomaly_auc'), 4)] for kind, m in models.items()]
        out.append(('Anomaly detection: label %r' % results['anomaly_class'], header, rows,
                    'Models with a %d-D code trained without label %r; every held-out image '
                    'scored by its summed BCE. ae_bakeoff reports the shallow model highest '
                    '(0.913 on MNIST), but its published AUCs predate a fix of its own '
                    'anomaly score and were never regenerated: compare rankings, not values.'
                    % (results['anomaly_latent_dim'], results['anomaly_class'])))
    return out


def _intro(results):
    return ('%d autoencoders trained on %d samples of %s for %d epochs each (code size %d, '
            'batch %d, Adam %g, seed %d) and measured on %d held-out samples.'
            % (len(results['models']), results['n_train'], results['dataset'],
               results['epochs'], results['latent_dim'], results['batch_size'], results['lr'],
               results['seed'], results['n_test']))


def markdown(results):
    lines = ['# Autoencoder bake-off', '', _intro(results), '']
    for notice in results['notices']:
        lines.append('> Note: %s' % notice)
    for title, header, rows, note in tables(results):
        lines += ['', '## %s' % title, '', '| %s |' % ' | '.join(header),
                  '|%s' % ('---|' * len(header))]
        lines += ['| %s |' % ' | '.join(row) for row in rows]
        lines += ['', note]
    lines += ['', '## Figures']
    for name, figure in results['figures'].items():
        lines += ['', '### %s' % name, '', '![%s](%s)' % (figure['caption'], figure['path']),
                  '', figure['caption']]
    return '\n'.join(lines) + '\n'


def html_page(results):
    e = html.escape
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<title>Autoencoder bake-off</title>',
             '<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;'
             'padding:0 1em}table{border-collapse:collapse;margin:.5em 0}'
             'td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}'
             'th{background:#eee}img{max-width:100%;border:1px solid #ddd}'
             '.note{color:#555;font-size:.9em}.notice{background:#fff6d5;padding:.4em}'
             '</style></head><body>', '<h1>Autoencoder bake-off</h1>',
             '<p>%s</p>' % e(_intro(results))]
    for notice in results['notices']:
        parts.append('<p class="notice">%s</p>' % e(notice))
    for title, header, rows, note in tables(results):
        parts.append('<h2>%s</h2><table><tr>%s</tr>' % (
            e(title), ''.join('<th>%s</th>' % e(h) for h in header)))
        for row in rows:
            parts.append('<tr>%s</tr>' % ''.join('<td>%s</td>' % e(c) for c in row))
        parts.append('</table><p class="note">%s</p>' % e(note))
    parts.append('<h2>Figures</h2>')
    for name, figure in results['figures'].items():
        parts.append('<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>'
                     % (e(figure['path']), e(name), e(figure['caption'])))
    parts.append('</body></html>')
    return '\n'.join(parts) + '\n'


def write_reports(out, results):
    """``report.md`` and ``report.html`` in ``out`` (figures referenced relative to it)."""
    for name, text in (('report.md', markdown(results)), ('report.html', html_page(results))):
        with atomic_path(os.path.join(out, name)) as tmp:
            with open(tmp, 'w') as f:
                f.write(text)
