"""The error of an invalid config, apart from :mod:`percontrast.config` (which re-exports it):
the task loaders (:mod:`percontrast.data.tasks`) refuse a task entry with it too, and the
config's checks read the loaders' registry, so neither module imports the other for it."""


class ConfigError(ValueError):
    """An invalid config; the message starts with the key path, e.g. ``training.clip``."""
