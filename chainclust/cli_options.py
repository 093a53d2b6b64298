"""Click options made from an estimator's signature, constraints and docstring.

Each method declares its parameters once: ``__init__`` gives the names and
defaults, ``_parameter_constraints`` the types, ranges and choices, and the
``Args:`` section of the class docstring the help texts. This module turns
them into click options, so that ``chainclust train METHOD --help`` shows
every hyper-parameter of the Python API.
"""
import inspect
from numbers import Integral
import re

import click
from sklearn.utils._param_validation import Interval, StrOptions


class IntList(click.ParamType):
    """Comma-separated positive integers, e.g. ``500,500,2000`` -> ``(500, 500, 2000)``."""

    name = 'INTS'

    def convert(self, value, param, ctx):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        try:
            values = tuple(int(v) for v in str(value).split(',') if v.strip())
        except ValueError:
            values = ()
        if not values or min(values) < 1:
            self.fail('comma-separated positive integers expected, got %r' % (value,),
                      param, ctx)
        return values


def docstring_args(cls):
    """``{name: help}`` from the ``Args:`` section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls) or ''
    section = re.split(r'^Args:\s*$', doc, maxsplit=1, flags=re.M)
    if len(section) < 2:
        return {}
    helps, name = {}, None
    for line in section[1].splitlines():
        if line and not line.startswith(' '):
            break  # the next section (Attributes:, ...)
        entry = re.match(r'^ {4}(\w+) \([^)]*\):\s*(.*)$', line)
        if entry:
            name = entry.group(1)
            helps[name] = entry.group(2)
        elif name and line.startswith(' ' * 8):
            helps[name] += ' ' + line.strip()
        else:
            name = None
    helps = {k: re.sub(r'``|:class:|:func:|`', '', v).strip() for k, v in helps.items()}
    return {k: v[:1].upper() + v[1:] for k, v in helps.items()}


def _option_type(constraints, default):
    """The click type for a parameter, and whether it is a flag."""
    for constraint in constraints:
        if isinstance(constraint, StrOptions):
            return click.Choice(sorted(constraint.options)), False
        if isinstance(constraint, Interval):
            left_open = constraint.closed in ('right', 'neither')
            right_open = constraint.closed in ('left', 'neither')
            if constraint.type is Integral:
                low = constraint.left if constraint.left is None or not left_open \
                    else constraint.left + 1
                high = constraint.right if constraint.right is None or not right_open \
                    else constraint.right - 1
                return click.IntRange(low, high), False
            return click.FloatRange(constraint.left, constraint.right, min_open=left_open,
                                    max_open=right_open), False
        if constraint == 'boolean':
            return bool, True
        if constraint in (tuple, list):
            return IntList(), False
    return type(default), False


def method_options(cls, skip):
    """click option decorators for the parameters of ``cls`` not in ``skip``."""
    helps = docstring_args(cls)
    aliases = getattr(cls, 'cli_aliases', {})
    options = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == 'self' or name in skip:
            continue
        default = parameter.default
        kind, flag = _option_type(cls._parameter_constraints.get(name, []), default)
        flag_name = '--' + name.replace('_', '-')
        if flag:
            decls = ['%s/--no-%s' % (flag_name, flag_name[2:]), name]
        else:
            decls = [flag_name] + list(aliases.get(name, ())) + [name]
        if isinstance(default, tuple):
            default = ','.join(str(v) for v in default)
        options.append(click.option(*decls, type=None if flag else kind, default=default,
                                    show_default=True, help=helps.get(name)))
    return options
