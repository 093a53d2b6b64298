"""chainclust: deep unsupervised clustering in Chainer, deployable through ONNX.

Chainer 7.8.1 is an sdist whose setup.py needs ``pkg_resources``; build it with
``setuptools<70`` (``constraints.txt``), exported as both ``PIP_CONSTRAINT`` and
``PIP_BUILD_CONSTRAINT`` (see README).
"""
import os

from setuptools import find_packages, setup

here = os.path.dirname(os.path.abspath(__file__))
version = {}
with open(os.path.join(here, 'chainclust', '_version.py')) as f:
    exec(f.read(), version)

setup(
    name='chainclust',
    version=version['__version__'],
    description='Deep unsupervised clustering (DEC, VQ-AE, GMVAE, IIC) in Chainer, '
                'exported to ONNX',
    long_description=open(os.path.join(here, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='MIT',
    python_requires='>=3.11',
    packages=find_packages(include=['chainclust', 'chainclust.*'])
    + ['chainclust_export', 'chainclust_runtime'],
    package_dir={'chainclust_export': 'export',
                 'chainclust_runtime': 'runtime/chainclust_runtime'},
    package_data={'chainclust.datasets': ['data/mnist10k.npz']},
    install_requires=[
        'chainer==7.8.1',
        'numpy>=1.26,<3',
        'scipy>=1.11',
        'scikit-learn>=1.4',
        'matplotlib>=3.7',
        'click>=8.1',
        'pillow>=10',
        'onnx>=1.15',
    ],
    extras_require={  # onnxruntime or onnxruntime-gpu, never both
        'cpu': ['onnxruntime>=1.17'],
        'gpu': ['cupy-cuda12x', 'onnxruntime-gpu>=1.17'],
        'tensorboard': ['tensorboardX>=2.6'],
        'bakeoff': ['umap-learn>=0.5'],  # UMAP latent figures (PCA without it)
        # ChainerMN (inside chainer) over MPI; the mpich wheel brings libmpi and mpiexec
        # into the environment, so no system MPI is needed.
        'mpi': ['mpi4py>=3.1', 'mpich>=4.1'],
        'test': ['pytest>=7', 'hypothesis>=6.80', 'onnxruntime>=1.17', 'tensorboardX>=2.6'],
    },
    entry_points={'console_scripts': ['chainclust=chainclust.cli:main',
                                      'chainclust-assign=chainclust_runtime.cli:main']},
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
