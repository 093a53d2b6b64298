# Sourced by the entry scripts: put every pyenv CPython 3.11-3.13 on PATH
# (pyenv's shims show only the global version, and tox's interpreter discovery
# does not follow them), oldest first so that python3 stays the oldest.
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[123]\.[0-9]+$' | sort -rV); do
        PATH="$root/versions/$v/bin:$PATH"
    done
    export PATH
fi
