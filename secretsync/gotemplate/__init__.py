"""Go's ``text/template`` in Python, with Sprig's and ESO's functions, safe by construction.

Templates are written by tenants of a shared cluster and rendered over secret
values, so: no attribute access or method calls on Python objects, no ``call``, no
environment, files or network; every render is bounded in steps, time, nesting,
value size and output size (:class:`Limits`); and every failure is a
:class:`TemplateError` whose message holds only the template name, a position, a
fixed kind and tokens as written in the template source -- never data -- and, where it
helps, a fixed hint (a function refused as ``not supported`` says why; a template written
for Jinja2 is told so).

Functions: Go's builtins (``call`` refused), every name of Sprig v3.3.0's ``TxtFuncMap``
except ``env``, ``expandenv`` and ``getHostByName`` (refused), and ESO's v2 functions
(``getSecretKey`` refused). Expensive ones (key generation, bcrypt, scrypt, PKCS#12 key
derivation) are admitted by the render budget: see :mod:`secretsync.gotemplate.limits`.

Public API::

    parse(name, source, *, limits=Limits(), funcs=None) -> Template
    render(templates, data, *, limits=Limits(), missing_key="error", funcs=None) -> dict[str, str]
    Template.execute(data, *, limits=None, missing_key="error") -> str
"""

from __future__ import annotations

from secretsync.gotemplate.errors import TemplateError
from secretsync.gotemplate.limits import Limits
from secretsync.gotemplate.template import Template, parse, render

__all__ = ["Limits", "Template", "TemplateError", "parse", "render"]
