"""chainclust-runtime: label data with an exported chainclust ONNX model.

Needs only NumPy and onnxruntime. Choose the onnxruntime build with an extra:
``pip install ./runtime[cpu]`` or ``pip install ./runtime[gpu]`` (onnxruntime and
onnxruntime-gpu share one import name: never install both).
"""
from setuptools import setup

setup(
    name='chainclust-runtime',
    version='0.1.0',
    description='Assign clusters with an exported chainclust ONNX model (numpy + '
                'onnxruntime only)',
    license='MIT',
    python_requires='>=3.9',
    packages=['chainclust_runtime'],
    install_requires=['numpy>=1.21'],
    extras_require={'cpu': ['onnxruntime>=1.17'], 'gpu': ['onnxruntime-gpu>=1.17'],
                    'images': ['pillow>=9']},
    entry_points={'console_scripts': ['chainclust-assign=chainclust_runtime.cli:main']},
)
