"""The bake-off's measurements, one function per comparison; NumPy in, numbers out."""
import chainer
import chainer.links as L
from chainer.datasets import TupleDataset
import numpy
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from chainclust import metrics
from chainclust.estimators.base import fingerprint
from chainclust.inference import batched_forward
from chainclust.models.autoencoders import AutoencoderNet
from chainclust.optimizers import Adam
from chainclust.training import Phase
from chainclust.training.run import TrainingRun


def reconstruction_bce(model, x, seed):
    """Mean summed BCE of ``x`` (``(N, ...)``); the Gaussian members decode a posterior
    sample drawn from ``seed``, as ae_bakeoff's test mode does."""
    return float(model.reconstruction_error(x, random_state=seed).mean())


def clustering_scores(model, x, y):
    """k-means (fitted on the training codes) labels of ``x`` against labels ``y``."""
    return metrics.evaluate(y, model.predict(x))


def linear_probe(model, x_train, y_train, x_test, y_test, seed):
    """Accuracy on ``x_test`` of a multinomial logistic regression on the frozen codes."""
    classifier = LogisticRegression(max_iter=2000, random_state=seed)
    classifier.fit(model.encode(x_train), y_train)
    return float((classifier.predict(model.encode(x_test)) == y_test).mean())


def anomaly_roc(model, x, is_anomaly, seed):
    """``(auc, fpr, tpr)``: the summed BCE as anomaly score of held-out samples."""
    score = model.reconstruction_error(x, random_state=seed)
    fpr, tpr, _ = roc_curve(is_anomaly, score)
    return float(roc_auc_score(is_anomaly, score)), fpr, tpr


class _EncoderClassifier(chainer.Chain):
    """The deep member's encoder and a linear layer: the probe's from-scratch baseline."""

    def __init__(self, net, n_classes, rng):
        super(_EncoderClassifier, self).__init__()
        with self.init_scope():
            self.net = net
            self.head = L.Linear(net.latent_dim, n_classes,
                                 initialW=chainer.initializers.LeCunNormal(rng=rng))

    def forward(self, x):
        return self.head(self.net.embed(x))


def from_scratch_accuracy(x_train, y_train, x_test, y_test, latent_dim, n_classes, out,
                          seed, epochs=100, batch_size=32, device='@numpy', resume='auto',
                          verbose=False):
    """Accuracy of the deep member's encoder plus a linear layer, trained end to end
    with the labels only (softmax cross-entropy, Adam 1e-3, batches of up to
    ``batch_size``); a resumable run in ``out``."""
    device = chainer.get_device(device)
    batch_size = min(batch_size, len(x_train))
    rng = numpy.random.RandomState(seed)  # never NumPy's global generator
    net = AutoencoderNet(x_train.shape[1:], 'deep', latent_dim, 1, rng=rng)
    net.normalize.fit(x_train, 'auto')
    classifier = L.Classifier(_EncoderClassifier(net, n_classes, rng))
    device.use()
    classifier.to_device(device)
    data = TupleDataset(numpy.asarray(x_train, numpy.float32), y_train.astype(numpy.int32))
    key = {'data': fingerprint(x_train), 'labels': fingerprint(y_train),
           'n_classes': int(n_classes), 'method': 'probe_from_scratch', 'seed': seed}
    with TrainingRun(out, device, seed, key, resume, verbose) as run:
        run.run(Phase('train', classifier, data, Adam(alpha=1e-3),
                      (epochs, 'epoch'), batch_size, order='drop_last',
                      params={'epochs': epochs, 'batch_size': batch_size,
                              'latent_dim': latent_dim},
                      log_trigger=(10, 'epoch'), snapshot_trigger=(10, 'epoch'),
                      report_keys=['main/loss', 'main/accuracy'],
                      plots=[('loss.png', ['main/loss']),
                             ('accuracy.png', ['main/accuracy'])]))
    logits = batched_forward(classifier.predictor, x_test, device=device)
    return float((logits.argmax(axis=1) == y_test).mean())
