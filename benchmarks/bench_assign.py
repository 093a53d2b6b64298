"""Assignment speed of the exported ONNX model against Chainer's forward pass.

    python benchmarks/bench_assign.py --result results/bench-dec/seed0 [--rows 1000000]

On the embedded MNIST with the DEC model in RESULT (a `chainclust train dec`
folder): rows/s at batch 1, 64 and 4096 for onnxruntime and for Chainer (same
machine, same number of threads), p50/p99 latency at batch 1, the encoder's
GFLOP/s at batch 4096 against onnxruntime's own Gemm on large square matrices
(the practical limit), the int8 variant (`export --quantize int8`: static
quantization of the encoder calibrated on the training data; throughput, label
agreement with fp32 and across batch sizes 1, 64 and 4096), and the peak RSS of
`chainclust-assign` streaming a memory-mapped .npy of --rows rows. Writes
benchmarks/results/assign.{json,md}.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import _common
import chainclust  # NOQA: compat before chainer
import numpy
import onnx
import onnxruntime

from chainclust import datasets, DEC
from chainclust_export import export_onnx

THREADS = 2


def session(path):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def rows_per_second(run, x, batch, seconds=3.0):
    """Throughput of ``run`` over batches of ``x`` (cycling), and per-call times."""
    batches = [x[i:i + batch] for i in range(0, len(x) - batch + 1, batch)]
    run(batches[0])
    times, rows, start = [], 0, time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds or len(times) < 20:
        b = batches[i % len(batches)]
        t = time.perf_counter()
        run(b)
        times.append(time.perf_counter() - t)
        rows += len(b)
        i += 1
    return rows / sum(times), numpy.asarray(times)


def matmul_limit(sizes=(1024, 2048, 3072, 4096)):
    """The best fp32 GFLOP/s of onnxruntime's Gemm and MatMul on square
    matrices (the practical limit), with the size and op that reached it."""
    from onnx import helper, TensorProto
    best = (0.0, None, None)
    for op in ('Gemm', 'MatMul'):
        for n in sizes:
            graph = helper.make_graph(
                [helper.make_node(op, ['a', 'b'], ['c'])], 'limit',
                [helper.make_tensor_value_info('a', TensorProto.FLOAT, [n, n]),
                 helper.make_tensor_value_info('b', TensorProto.FLOAT, [n, n])],
                [helper.make_tensor_value_info('c', TensorProto.FLOAT, [n, n])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
            model.ir_version = 8
            path = tempfile.mktemp(suffix='.onnx')
            onnx.save(model, path)
            sess = session(path)
            a = numpy.random.RandomState(0).rand(n, n).astype(numpy.float32)
            feed = {'a': a, 'b': a}
            sess.run(None, feed)
            fastest = float('inf')
            for _ in range(5):
                t = time.perf_counter()
                sess.run(None, feed)
                fastest = min(fastest, time.perf_counter() - t)
            os.remove(path)
            rate = 2.0 * n ** 3 / fastest / 1e9
            if rate > best[0]:
                best = (rate, op, n)
    return best


def encoder_flops(model):
    """Multiply-adds x 2 per row of the encoder and the Student's t head."""
    sizes = model.net_.autoencoder.sizes
    flops = sum(2 * a * b for a, b in zip(sizes, sizes[1:]))
    return flops + 2 * sizes[-1] * model.n_clusters * 2


def peak_rss_of_assign(onnx_path, rows, workdir):
    """Write a memory-mapped uint8 .npy of ``rows`` digits and label it in a child."""
    data = datasets.load('mnist').x
    path = os.path.join(workdir, 'big.npy')
    big = numpy.lib.format.open_memmap(path, mode='w+', dtype=numpy.uint8,
                                       shape=(rows,) + data.shape[1:])
    for start in range(0, rows, len(data)):
        n = min(len(data), rows - start)
        big[start:start + n] = data[:n]
    big.flush()
    del big
    out = os.path.join(workdir, 'labels.npy')
    # The child reports its own high-water mark (VmHWM, reset at exec): the
    # children's ru_maxrss would include the parent's pages right after fork.
    code = ('import sys, time; from chainclust_runtime.cli import main; '
            't = time.perf_counter(); rc = main(sys.argv[1:]); '
            'sys.stderr.write("SECONDS %f\\n" % (time.perf_counter() - t)); '
            'hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]; '
            'sys.stderr.write("PEAK_KB %s\\n" % hwm.split()[1]); sys.exit(rc)')
    child = subprocess.run([sys.executable, '-c', code, onnx_path, path, '-o', out, '-q'],
                           check=True, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, OMP_NUM_THREADS=str(THREADS)))
    seconds = float(child.stderr.split('SECONDS')[1].split()[0])
    rss_mb = int(child.stderr.split('PEAK_KB')[1].split()[0]) / 1024.0
    labels = numpy.load(out, mmap_mode='r')
    ok = len(labels) == rows
    os.remove(path)
    os.remove(out)
    return {'rows': rows, 'seconds': seconds, 'rows_per_s': rows / seconds,
            'peak_rss_mb': rss_mb, 'all_rows_labelled': bool(ok),
            'input_mb': rows * 784 / 1e6}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--result', required=True, help='a chainclust train dec folder')
    parser.add_argument('--rows', type=int, default=1000000)
    args = parser.parse_args()
    import chainer
    os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))
    model = DEC.load(args.result)
    x = datasets.load('mnist').x
    workdir = tempfile.mkdtemp(prefix='bench-assign-')
    fp32 = os.path.join(workdir, 'dec.onnx')
    export_onnx(model, fp32)
    int8 = os.path.join(workdir, 'dec.int8.onnx')
    export_onnx(model, int8, quantize='int8', calibration=x)  # MNIST-10k: its training data
    sessions = {'onnxruntime fp32': session(fp32), 'onnxruntime int8': session(int8)}
    net = model.net_
    xf = x.astype(numpy.float32)

    def chainer_run(batch):
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            return net(batch.astype(numpy.float32)).array.argmax(axis=1)

    runners = {name: (lambda s: (lambda b: s.run(['label'], {'input': b})))(s)
               for name, s in sessions.items()}
    runners['chainer'] = chainer_run
    rows = []
    for batch in (1, 64, 4096):
        # Runners interleaved over 3 rounds; the median round counts, so that
        # a passing disturbance of the machine hits every runner alike.
        rates = {name: [] for name in runners}
        all_times = {name: [] for name in runners}
        for _ in range(3):
            for name, run in runners.items():
                rate, times = rows_per_second(run, x, batch, seconds=2.0)
                rates[name].append(rate)
                all_times[name].append(times)
        row = {'batch': batch}
        for name in runners:
            row[name] = float(numpy.median(rates[name]))
            if batch == 1:
                times = numpy.concatenate(all_times[name])
                row[name + ' p50_ms'] = float(numpy.percentile(times, 50) * 1e3)
                row[name + ' p99_ms'] = float(numpy.percentile(times, 99) * 1e3)
        rows.append(row)
    labels32 = sessions['onnxruntime fp32'].run(['label'], {'input': x})[0]
    labels8 = sessions['onnxruntime int8'].run(['label'], {'input': x})[0]
    agreement = float((labels32 == labels8).mean())
    by_batch = {}
    for batch in (1, 64, 4096):
        chunks = [sessions['onnxruntime int8'].run(['label'], {'input': x[i:i + batch]})[0]
                  for i in range(0, len(x), batch)]
        by_batch[batch] = float((numpy.concatenate(chunks) == labels8).mean())
    chainer_labels = model.predict(xf)
    limit, limit_op, limit_n = matmul_limit()
    flops = encoder_flops(model)
    big = rows[-1]
    encoder_gflops = big['onnxruntime fp32'] * flops / 1e9
    stream = peak_rss_of_assign(fp32, args.rows, workdir)
    summary = {
        'threads': THREADS, 'rows': rows, 'practical_limit_gflops': limit,
        'practical_limit_op': '%s %dx%d' % (limit_op, limit_n, limit_n),
        'flops_per_row': flops, 'encoder_gflops_at_4096': encoder_gflops,
        'fraction_of_limit': encoder_gflops / limit,
        'int8_label_agreement': agreement,
        'int8_same_labels_as_one_batch': by_batch,
        'fp32_vs_chainer_label_agreement': float((labels32 == chainer_labels).mean()),
        'stream': stream, 'model_size_bytes': {'fp32': os.path.getsize(fp32),
                                               'int8': os.path.getsize(int8)}}
    table = ['| batch | onnxruntime fp32 (rows/s) | onnxruntime int8 (rows/s) '
             '| Chainer (rows/s) | fp32 / Chainer | int8 / fp32 |',
             '|---|---|---|---|---|---|']
    for r in rows:
        table.append('| %d | %.0f | %.0f | %.0f | %.2fx | %.2fx |' % (
            r['batch'], r['onnxruntime fp32'], r['onnxruntime int8'], r['chainer'],
            r['onnxruntime fp32'] / r['chainer'],
            r['onnxruntime int8'] / r['onnxruntime fp32']))
    b1 = rows[0]
    table += ['', 'Batch-1 latency p50 / p99: onnxruntime fp32 %.3f / %.3f ms, int8 %.3f / '
              '%.3f ms, Chainer %.3f / %.3f ms.' % (
                  b1['onnxruntime fp32 p50_ms'], b1['onnxruntime fp32 p99_ms'],
                  b1['onnxruntime int8 p50_ms'], b1['onnxruntime int8 p99_ms'],
                  b1['chainer p50_ms'], b1['chainer p99_ms']),
              'Encoder at batch 4096: %.1f GFLOP/s = %.0f%% of the practical limit, '
              "onnxruntime's best square %s (%.1f GFLOP/s), %d threads." % (
                  encoder_gflops, 100 * encoder_gflops / limit,
                  summary['practical_limit_op'], limit, THREADS),
              'int8 labels agree with fp32 on %.2f%% of the 10,000 digits, and are the same '
              'whatever the batch (batch 1 / 64 / 4096 against one batch of all: %s); fp32 '
              'agrees with Chainer on %.2f%%. Model size %.1f MB fp32, %.1f MB int8.' % (
                  100 * agreement, ' / '.join('%.2f%%' % (100 * by_batch[b])
                                              for b in (1, 64, 4096)),
                  100 * summary['fp32_vs_chainer_label_agreement'],
                  summary['model_size_bytes']['fp32'] / 1e6,
                  summary['model_size_bytes']['int8'] / 1e6),
              '`chainclust-assign` on a memory-mapped %d-row uint8 .npy (%.0f MB): %.1f s '
              '(%.0f rows/s), peak RSS %.0f MB.' % (
                  stream['rows'], stream['input_mb'], stream['seconds'],
                  stream['rows_per_s'], stream['peak_rss_mb'])]
    _common.write_results('assign', {'machine': _common.machine(), 'summary': summary},
                          '\n'.join(table) + '\n')


if __name__ == '__main__':
    main()
