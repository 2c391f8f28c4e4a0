"""ESO's templating manifests: docs/guides/templating.md's snippets (inline templates, mergePolicy,
templateFrom with ConfigMaps and literals, the JWK and RSA functions), the dataFrom
rewrite guide's remaining examples, the fake provider's page and docs/api/externalsecret.md's
refreshPolicy examples.

Template semantics (external-secrets ``runtime/template/v2/template.go``, ``execute``): every
value enters the template as ``string(bytes)``, ``missingkey=error``; ``Values`` templates give the
value of their key, ``KeysAndValues`` ones (and every ``literal``) are read with
``k8s.io/apimachinery/pkg/util/yaml.Unmarshal`` into ``map[string]string``, i.e. sigs.k8s.io/yaml,
which turns a YAML ``true`` or ``1`` into the string ``"true"``/``"1"`` for a string target
(yaml.go, ``convertToJSONableObject``). The controller
(pkg/controllers/externalsecret/externalsecret_controller_template.go, ``ApplyTemplate``) keeps the
fetched values only with ``mergePolicy: Merge`` or when there is neither ``data`` nor
``templateFrom``, applies ``templateFrom`` then ``data``, and copies the ExternalSecret's own labels
and annotations only when there is no template. Sprig is v3.3.0 (``env``/``expandenv`` removed).

Skipped (a separate list holds what secretsync refuses):

- pkcs12-template-v2-external-secret.yaml, filterpem-template-v2-external-secret.yaml,
  filtercertchain-template-v2-external-secret.yaml: not YAML (``"{{ .x | filterPEM "CERTIFICATE" }}"``
  nests double quotes), so kubectl cannot read them for ESO either. PKCS#12 is covered by
  gcpsm-tls-externalsecret.yaml, the same template in valid YAML (eso_gcp.py: gcp-tls-pkcs12).
- pkcs12-template-v1-external-secret.yaml: ``engineVersion: v1`` (``pemCertificate``), refused by
  secretsync and by ESO v1.3.2's own CRD (``engineVersion`` enum: ``v2``).
- multiline-template-v1-external-secret.yaml: the v1 guide's; ``target.engineVersion`` is no field
  of ESO's CRD (refused under strict field validation, else pruned), and its ``kubernetes.io/tls``
  Secret has neither ``tls.crt`` nor ``tls.key``, which the API server refuses.
- full-external-secret.yaml: ``sourceRef`` (a per-entry store and a generator) and
  ``template.metadata.finalizers``, both refused; also not applicable to ESO as written
  (``acme.org/sha: 1234`` is a number in ``annotations``, ``dataFrom`` appears twice).
- full-cluster-external-secret.yaml: ClusterExternalSecret, not implemented (and its ``dataFrom:
  - key:`` is the v1alpha1 form).
- template-v2-push-secret.yaml, full-*push*: PushSecret; generator-fake*.yaml: generators;
  manifest-*.yaml: ``target.manifest`` (non-Secret targets) -- none implemented.
- templating.md's "Migrating from v1" blocks: apiVersion ``external-secrets.io/v1alpha1``, not
  served by ESO v1.3 either.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.corpus import fixtures
from tests.corpus.eso_common import CANARY, aws_store, data, fake_store, ref, vault_store
from tests.corpus.model import (
    DELETE,
    GO_TIME,
    AwsSecret,
    EsoCase,
    Fails,
    Htpasswd,
    SecretOut,
    Upstream,
    VaultKV,
)

SNIPPETS = "docs/snippets"
ES_API_MD = "docs/api/externalsecret.md"


def _snippet(name: str) -> Upstream:
    return Upstream(f"{SNIPPETS}/{name}.yaml")


def _elided_store(es: str, store: str, kind: str = "SecretStore") -> dict[str, Any]:
    """The snippets write ``# ...`` where the store goes: the case's own store."""
    return {f"ExternalSecret/{es}:spec.secretStoreRef": ref(store, kind)}


# The templating guide's values ("/credentials", "/grafana/user", ...): in a fake store (the
# guide names no provider), so the template is all a case tests.
PASSWORD = f"pw-{CANARY}"
GRAFANA = {"/grafana/user": "admin", "/grafana/password": PASSWORD}
CHAIN = fixtures.chain()
PUBLIC_JWK = json.dumps(
    {k: v for k, v in json.loads(CHAIN.jwk).items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
)
JWK_DATA = {
    **_elided_store("template", "template-store"),
    # the snippet elides where .myjwk comes from ("a json-encoded JWK string")
    "ExternalSecret/template:spec.data": data(("myjwk", "jwk/signing")),
}


def _rsa_oaep_sha1(plain: bytes) -> bytes:
    """What the rsaDecrypt example's provider holds: ``plain`` encrypted for the fixture key
    (Go's rsa.DecryptOAEP uses the one hash for OAEP and MGF1)."""
    key = serialization.load_pem_private_key(CHAIN.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sha1 = hashes.SHA1()  # noqa: S303 - the example's own choice ("RSA-OAEP" "SHA1")
    return key.public_key().encrypt(plain, padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None))


def _refresh_case(policy: str, block: int) -> EsoCase:
    """docs/api/externalsecret.md's refreshPolicy examples: "# other fields..." is a store and
    one value; the first sync writes the Secret under every policy."""
    return EsoCase(
        id=f"tpl-refresh-policy-{policy.lower()}",
        sources=(Upstream(ES_API_MD, block=block),),
        provider="fake",
        features=("refreshPolicy", policy),
        extra=(fake_store("example-store", {"app/db-password": PASSWORD}),),
        completions={
            **_elided_store("example", "example-store"),
            "ExternalSecret/example:spec.data": data(("password", "app/db-password")),
        },
        expect=(SecretOut("example", {"password": PASSWORD.encode()}),),
    )


CASES = (
    EsoCase(
        id="tpl-helm-escape",
        sources=(_snippet("helm-template-v2-escape-sequence"),),
        provider="fake",
        features=("helm-escaped-template", "template-data", "default-target-name"),
        helm=True,  # the page: the backtick form is for manifests that go through Helm
        extra=(fake_store("template-store", {"/credentials": PASSWORD}),),
        completions=_elided_store("template", "template-store"),
        # no target.name: the ExternalSecret's; mergePolicy Replace: only the template's keys
        expect=(SecretOut("template", {"name": b"admin", "password": PASSWORD.encode()}),),
    ),
    EsoCase(
        id="tpl-multikey",
        sources=(_snippet("multikey-template-v2-external-secret"),),
        provider="fake",
        features=("template-data", "literal-value"),
        extra=(fake_store("template-store", {"/credentials": PASSWORD}),),
        completions=_elided_store("template", "template-store"),
        expect=(SecretOut("template", {"name": b"admin", "password": PASSWORD.encode()}),),
    ),
    EsoCase(
        id="tpl-multiline",
        sources=(_snippet("multiline-template-v2-external-secret"),),
        provider="fake",
        features=("template-data", "multiline", "replace"),
        extra=(
            fake_store("template-store", {**GRAFANA, "/database/url": "postgres://db.example.com:5432/app"}),
        ),
        completions=_elided_store("template", "template-store"),
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    # the block scalar "|" keeps one trailing newline
                    "config": (
                        "datasources:\n"
                        "- name: Graphite\n"
                        "  type: graphite\n"
                        "  access: proxy\n"
                        "  url: http://localhost:8080\n"
                        f'  password: "{PASSWORD}"\n'
                        '  user: "admin"\n'
                    ).encode(),
                    "connection": b"postgresql://db.example.com:5432/app",
                },
            ),
        ),
    ),
    EsoCase(
        id="tpl-merge-policy",
        sources=(_snippet("merge-template-v2-external-secret"),),
        provider="fake",
        features=("mergePolicy-Merge", "b64dec"),
        extra=(
            fake_store(
                "template-store",
                {
                    "/credentials/password": base64.b64encode(PASSWORD.encode()).decode(),
                    "/credentials/username": "app-user",
                },
            ),
        ),
        completions=_elided_store("template", "template-store"),
        # the page: the template's password overwrites the fetched one, username is kept
        expect=(
            SecretOut("template", {"name": b"admin", "password": PASSWORD.encode(), "username": b"app-user"}),
        ),
    ),
    EsoCase(
        id="tpl-templatefrom-configmap",
        sources=(_snippet("template-v2-from-secret"),),
        provider="fake",
        features=("templateFrom-configMap", "templateAs-KeysAndValues", "target-Annotations", "now"),
        extra=(
            fake_store("template-store", {**GRAFANA, "/grafana/uri": "oci://registry.example.com/grafana"}),
        ),
        completions=_elided_store("my-template-example", "template-store"),
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    "config.yaml": (
                        "datasources:\n"
                        "  - name: Graphite\n"
                        "    type: graphite\n"
                        "    access: proxy\n"
                        '    url: "oci://registry.example.com/grafana"\n'
                        f'    password: "{PASSWORD}"\n'
                        '    user: "admin"\n'
                    ).encode(),
                    "my-application-admin": base64.b64encode(PASSWORD.encode()),
                    # "enableOCI: true" is a YAML bool; sigs.k8s.io/yaml makes it "true" for the
                    # map[string]string ESO unmarshals into
                    "enableOCI": b"true",
                    "application-type": b"grafana",
                },
                # {{ now }}: Go's time.Time.String()
                annotations={"last-synced-for-user/admin": GO_TIME},
            ),
        ),
    ),
    EsoCase(
        id="tpl-literal-missing-now",
        sources=(_snippet("template-v2-scope-and-target"),),
        provider="fake",
        features=("templateFrom-literal", "target-Annotations", "missingkey-error"),
        extra=(fake_store("template-store", GRAFANA),),
        completions=_elided_store("my-template-example", "template-store"),
        # "{{ .now }}" reads a key "now" of the data, which the example does not fetch: with
        # missingkey=error ESO fails ("map has no entry for key \"now\"") and writes no Secret.
        expect=(Fails("ExternalSecret/my-template-example", "missing key: now", "secret-to-be-created"),),
    ),
    EsoCase(
        id="tpl-literal-htpasswd",
        sources=(_snippet("template-v2-literal-example"),),
        provider="fake",
        features=("templateFrom-literal", "htpasswd", "range-dot", "append", "join", "quote"),
        extra=(
            fake_store(
                "template-store",
                # the page's provider secret: {"user1": "password1", "user2": "password2", ...}
                {"/ingress-controller/valid-users": f'{{"user1": "p1-{CANARY}", "user2": "p2-{CANARY}"}}'},
            ),
        ),
        completions=_elided_store("my-template-example", "template-store"),
        # range over the data map goes in key order; quote escapes the newline join put in,
        # which the YAML read turns back into one; bcrypt with a random salt
        expect=(
            SecretOut(
                "secret-to-be-created",
                {"auth": Htpasswd({"user1": f"p1-{CANARY}", "user2": f"p2-{CANARY}"})},
            ),
        ),
    ),
    EsoCase(
        id="tpl-v1-guide-on-v2",
        sources=(_snippet("template-v1-from-secret"),),
        provider="fake",
        features=("templateFrom-configMap", "default-engine-v2", "toString", "default-templateAs"),
        extra=(fake_store("template-store", GRAFANA),),
        completions=_elided_store("my-template-example", "template-store"),
        # no engineVersion: v2 (the v1 API's default); sprig's toString of a string is the string.
        # templateFrom's target defaults to Data, templateAs to Values; the YAML comments are part
        # of the block scalar, so they are part of the value.
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    "config.yaml": (
                        "datasources:\n"
                        "  - name: Graphite\n"
                        "    type: graphite\n"
                        "    access: proxy\n"
                        "    url: http://localhost:8080\n"
                        f'    password: "{PASSWORD}" # <-- convert []byte to string\n'
                        '    user: "admin"         # <-- convert []byte to string\n'
                    ).encode()
                },
            ),
        ),
    ),
    EsoCase(
        id="tpl-jwk",
        sources=(_snippet("jwk-template-v2-external-secret"),),
        provider="fake",
        features=("jwkPublicKeyPem", "jwkPrivateKeyPem"),
        extra=(fake_store("template-store", {"jwk/signing": CHAIN.jwk}),),
        completions=JWK_DATA,
        # The snippet asks both functions of one JWK, which never works in ESO (jwk.go): for a
        # private JWK, k.Raw gives an *rsa.PrivateKey, and x509.MarshalPKIXPublicKey refuses it
        # ("unsupported public key type"); for a public one MarshalPKCS8PrivateKey refuses the
        # *rsa.PublicKey. With the private JWK the page describes, jwk_pub fails: no Secret.
        expect=(Fails("ExternalSecret/template", "jwkPublicKeyPem", "template"),),
    ),
    EsoCase(
        id="tpl-jwk-private-only",
        sources=(_snippet("jwk-template-v2-external-secret"),),
        provider="fake",
        features=("jwkPrivateKeyPem",),
        extra=(fake_store("template-store", {"jwk/signing": CHAIN.jwk}),),
        # the snippet without the jwk_pub line that always fails for a private JWK (tpl-jwk)
        completions={**JWK_DATA, "ExternalSecret/template:spec.target.template.data.jwk_pub": DELETE},
        # x509.MarshalPKCS8PrivateKey, pem.Encode (jwk.go)
        expect=(SecretOut("template", {"jwk_priv": CHAIN.key_pem}),),
    ),
    EsoCase(
        id="tpl-jwk-public-only",
        sources=(_snippet("jwk-template-v2-external-secret"),),
        provider="fake",
        features=("jwkPublicKeyPem",),
        extra=(fake_store("template-store", {"jwk/signing": PUBLIC_JWK}),),
        # the snippet without the jwk_priv line that always fails for a public JWK
        completions={**JWK_DATA, "ExternalSecret/template:spec.target.template.data.jwk_priv": DELETE},
        # x509.MarshalPKIXPublicKey, pem.Encode (jwk.go)
        expect=(SecretOut("template", {"jwk_pub": CHAIN.public_pem}),),
    ),
    EsoCase(
        id="tpl-rsa-decrypt",
        sources=(_snippet("rsadecrypt-template-v2-external-secret"),),
        provider="aws-sm",  # the ciphertext is binary: a SecretBinary
        features=("rsaDecrypt", "property", "binary-value"),
        extra=(aws_store("template-store", "SecretsManager"),),
        completions={
            **_elided_store("rsa-decrypt-template-v2", "template-store"),
            # The key comes from a second store (a kubernetes provider) through sourceRef, which
            # secretsync refuses (one store per ExternalSecret): here it is in the same store.
            "ExternalSecret/rsa-decrypt-template-v2:spec.data.0.sourceRef": DELETE,
        },
        remote={
            "a-secretname-in-cluster": AwsSecret(json.dumps({"privatekey": CHAIN.key_pem.decode()})),
            "/credentials/password_encrypted_binary": AwsSecret(_rsa_oaep_sha1(PASSWORD.encode())),
        },
        expect=(SecretOut("rsa-decrypt-template-v2", {"password": PASSWORD.encode()}),),
    ),
    EsoCase(
        id="tpl-fake-provider",
        sources=(_snippet("fake-provider-store"), _snippet("fake-provider-es")),
        provider="fake",
        features=("fake-provider", "version", "extract", "cluster-store"),
        # docs/snippets/fake-provider-secret.yaml, the page's result: foo_bar HELLO1, john doe
        expect=(SecretOut("secret-to-be-created", {"foo_bar": b"HELLO1", "john": b"doe"}),),
    ),
    EsoCase(
        id="tpl-rewrite-remove-path",
        sources=(_snippet("datafrom-rewrite-remove-path"),),
        provider="vault-token",
        features=("find-path", "find-name", "rewrite-regexp"),
        extra=(vault_store("backend"),),  # the snippet names SecretStore "backend" only
        remote={
            "path/to/my/secrets/username": VaultKV({"value": "app"}),
            "path/to/my/secrets/password": VaultKV({"value": PASSWORD}),
            "path/to/other/secrets/x": VaultKV({"value": "outside the path"}),
        },
        # the guide: username and password, the common path gone; a Vault value without
        # property is the KV data as compact JSON
        expect=(
            SecretOut(
                "secret-to-be-created",
                {"username": b'{"value":"app"}', "password": f'{{"value":"{PASSWORD}"}}'.encode()},
            ),
        ),
    ),
    EsoCase(
        id="tpl-rewrite-transform",
        sources=(Upstream(f"{SNIPPETS}/datafrom-rewrite-transform.yaml"),),
        provider="fake",
        features=("find-name", "rewrite-transform", "upper", "replace", "cluster-store"),
        # the guide's provider secrets, in the ClusterSecretStore "fake" the snippet names
        extra=(
            fake_store(
                "fake",
                {"foo-nut-bar": "HELLO1", "foo-naz-bar": "HELLO2", "foo-bar-baz": '{"john": "doe"}'},
                cluster=True,
            ),
        ),
        expect=(
            SecretOut(
                "external-secret-transform",
                {
                    "ENV_FOO_BAR_BAZ": b'{"john": "doe"}',
                    "ENV_FOO_NAZ_BAR": b"HELLO2",
                    "ENV_FOO_NUT_BAR": b"HELLO1",
                },
            ),
        ),
    ),
    _refresh_case("CreatedOnce", 0),
    _refresh_case("Periodic", 1),
    _refresh_case("OnChange", 2),
)
