"""`ffscan server`: the language server (pygls), over the engine and the fixer.

pygls and lsprotocol come with the `server` extra (`pip install 'ffscan[server]'`); nothing
else in ffscan imports them.
"""
