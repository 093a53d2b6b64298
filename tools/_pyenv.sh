# Sourced by the entry scripts: make every installed pyenv CPython 3.11-3.13
# visible (pyenv only shows the global one by default), so tox finds python3.12.
if command -v pyenv >/dev/null 2>&1; then
    versions=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[123]\.[0-9]+$' | sort -rV | tr '\n' ':')
    [ -n "$versions" ] && export PYENV_VERSION="${versions%:}"
fi
