"""Regenerate runtime/tests/data: a tiny DEC assigner exported by the trainer,
inputs, Chainer's labels and embeddings for them, and a foreign ONNX model.

    python tools/make_runtime_fixture.py

The runtime's tests (which run without Chainer) check that onnxruntime
reproduces what the trainer computed.
"""
import os

import chainclust  # NOQA: compat before chainer
import numpy
import onnx
from onnx import helper, TensorProto

from chainclust import DEC, datasets
from chainclust_export import export_onnx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'runtime', 'tests',
                   'data')


def main():
    data = datasets.load('digits').subset(400, random_state=0)
    model = DEC(n_clusters=10, hidden_dims=(32, 32, 64), embedding_dim=5,
                pretrain_epochs=2, finetune_epochs=5, batch_size=64, update_interval=20,
                max_iter=60, n_init=3, random_state=0).fit(data.x, data.y)
    export_onnx(model, os.path.join(OUT, 'dec_digits.onnx'))
    x = data.x[:200]
    numpy.save(os.path.join(OUT, 'digits_x.npy'), x)
    numpy.save(os.path.join(OUT, 'digits_labels.npy'), model.predict(x))
    numpy.save(os.path.join(OUT, 'digits_embedding.npy'), model.transform(x))
    numpy.save(os.path.join(OUT, 'digits_proba.npy'), model.predict_proba(x))
    identity = helper.make_model(helper.make_graph(
        [helper.make_node('Identity', ['input'], ['output'])], 'foreign',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['n', 4])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, ['n', 4])]),
        opset_imports=[helper.make_opsetid('', 17)])
    identity.ir_version = 8
    onnx.save(identity, os.path.join(OUT, 'foreign.onnx'))


if __name__ == '__main__':
    main()
