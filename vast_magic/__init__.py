"""vast-magic: Vast.ai account-security (2FA) commands as an IPython magic.

    %load_ext vast_magic
    %vast tfa auth-new

Loading the extension is cheap: the HTTP stack, the keyring and the prompt are
imported on first use.
"""

__version__ = "0.1.0"

_loaded = {}


def load_ipython_extension(ipython):
    """Called by ``%load_ext vast_magic``."""
    from .magic import VastMagics

    if ipython in _loaded:
        return
    magics = VastMagics(shell=ipython)
    ipython.register_magics(magics)
    _loaded[ipython] = magics


def unload_ipython_extension(ipython):
    """Called by ``%unload_ext`` / ``%reload_ext``: remove ``%vast``, keep the user's data.

    A pending challenge stays in the namespace, so ``%reload_ext`` loses nothing.
    """
    magics = _loaded.pop(ipython, None)
    if magics is None:
        return
    magics.close()
    manager = ipython.magics_manager
    manager.magics["line"].pop("vast", None)
    manager.registry.pop(type(magics).__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
