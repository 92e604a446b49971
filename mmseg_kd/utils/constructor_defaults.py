"""The value a config entry gives a constructor argument, with the class's default filled in.

Checks that run on a config before anything is built (e.g. the start-time check of unlabeled images) must compare
what the built object will use, not only the keys the config writes: an argument the config leaves out takes the
default of the first constructor in the class's MRO that names it.
"""
import inspect


def constructor_default(cls: type, argument: str):
    """The default value of ``argument`` of ``cls``'s constructor or of the first base class constructor that names
    it (e.g. mmseg's ``avg_non_ignore=False``, or ``BaseDecodeHead``'s ``ignore_index=255`` for a ``PSPHead``).

    Raises:
        KeyError: no constructor in the MRO takes ``argument``.
    """
    for klass in cls.__mro__:
        parameters = inspect.signature(klass.__init__).parameters if '__init__' in vars(klass) else {}
        if argument in parameters:
            return parameters[argument].default
    raise KeyError(f'{cls.__name__} takes no argument {argument!r}')


def configured_argument(cls: type, cfg: dict, argument: str):
    """``cfg[argument]``, else :func:`constructor_default` of ``cls``."""
    return cfg[argument] if argument in cfg else constructor_default(cls, argument)
