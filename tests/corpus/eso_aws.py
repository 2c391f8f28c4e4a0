"""ESO's AWS manifests: docs/provider/aws-secrets-manager.md and aws-parameter-store.md, their store
snippets, the basic and getallsecrets examples (docs/guides/getallsecrets.md), and the Jenkins and
Anchore examples, which name ClusterSecretStores the docs never show (aws_store supplies them).

Secrets Manager semantics (providers/v1/aws/secretsmanager/secretsmanager.go): ``GetSecret``
reads ``GetSecretValue`` at ``VersionStage`` ``version`` [AWSCURRENT] (``uuid/<id>``: at
``VersionId``) and returns SecretString as is, else SecretBinary raw, never re-marshalled; a
``property`` is the whole property as one escaped key first, then a gjson path, and its bytes are
gjson's ``Result.String()`` (strings unquoted, objects and lists their RAW text as stored);
``GetSecretMap`` (``dataFrom.extract``) unmarshals into ``map[string]json.RawMessage``: strings
unquoted, everything else its raw text as stored (whitespace kept); ``metadataPolicy: Fetch``
reads DescribeSecret's tags as ``json.Marshal(map)`` (awsutil.SecretTagsToJSONString). ``find``
by name lists every secret (ListSecrets) and keys the result by the secret's name; by tags it
passes ``tag-key``/``tag-value`` filters to BatchGetSecretValue, which AWS matches as independent
prefix matches ("tag-value: Prefix match, case-sensitive", the API reference of Filter). The
controller converts find and extract keys (ConversionStrategy Default: ``/`` and every other
character outside ``[-._a-zA-Z0-9]`` -> ``_``). Parameter Store (parameterstore.go): the same
property and extract rules on the parameter's value, ``version`` as ``name:version``, tags
through ListTagsForResource (awsutil.ParameterTagsToJSONString).

Skipped: the PushSecret manifests (aws-sm-store-secretsmanager-config.yaml,
aws-sm-push-secret-with-metadata.yaml, aws-pm-push-secret-with-metadata.yaml, the resource-policy
example and its ConfigMap: secretsync has no PushSecret); the ``uuid/...`` version example of
aws-secrets-manager.md (block 7): its VersionId is one AWS generated for the docs' author, and
backends.py cannot create a version with a chosen id (ClientRequestToken), so there is nothing for
it to read; docs/snippets/provider-aws-access.md (the IRSA / pod identity / JWT auth page both
provider pages include) is not in the v1.3.2 module, and its auth is the operator's ambient
identity or ``auth.jwt``, which secretsync refuses (tests/corpus/refused.py).
"""

from __future__ import annotations

from tests.corpus.eso_common import AWS_PS_STORE, AWS_SM_STORE, BASIC_STORE, CANARY, aws_store, ref
from tests.corpus.model import ESO_API, AwsSecret, EsoCase, Parameter, SecretOut, Upstream

SM_MD = "docs/provider/aws-secrets-manager.md"
PS_MD = "docs/provider/aws-parameter-store.md"
BASIC_ES = Upstream("docs/snippets/basic-external-secret.yaml")

# The JSON both provider pages say is stored under "friendslist", as the pages write it.
FRIENDSLIST = """{
  "name": {"first": "Tom", "last": "Anderson"},
  "friends": [
    {"first": "Dale", "last": "Murphy"},
    {"first": "Roger", "last": "Craig"},
    {"first": "Jane", "last": "Murphy"}
  ]
}"""
# "friends" as stored: from its "[" to its "]", newlines and indentation included
FRIENDS_RAW = FRIENDSLIST[FRIENDSLIST.index("[") : FRIENDSLIST.rindex("]") + 1].encode()
TAGS = {"dev": "jdoe", "team": "payments"}
TAGS_JSON = b'{"dev":"jdoe","team":"payments"}'  # Go's json.Marshal of the tag map: sorted, compact

# basic-external-secret.yaml: data[0] reads stage "provider-key-version" of "provider-key" and
# its property "provider-key-property"; AWSCURRENT holds another value, which must not be read.
PROVIDER_KEY = AwsSecret(
    '{"provider-key-property":"current"}',
    stages={"provider-key-version": f'{{"provider-key-property":"staged-{CANARY}","other":"x"}}'},
)

# The Jenkins and Anchore examples name these ClusterSecretStores without showing them.
CLUSTER_SM = aws_store("cluster-secrets-store", "SecretsManager", cluster=True)
CLUSTER_PS = aws_store("cluster-parameter-store", "ParameterStore", cluster=True)
SSH_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n-----END OPENSSH PRIVATE KEY-----\n"
PROD_APP = {"environment": "prod", "application": "app-name"}  # getallsecrets-find-by-tags.yaml's tags
FIND_BY_TAGS_V1 = {
    # getallsecrets-find-by-tags.yaml is still written for external-secrets.io/v1beta1, which ESO
    # v1.3.2's CRD no longer serves (served: false): the user must move it to v1 to apply it.
    "ExternalSecret/find-by-tags:apiVersion": ESO_API,
}

CASES = (
    EsoCase(
        id="aws-sm-json-and-tags",
        sources=(AWS_SM_STORE, Upstream("docs/snippets/aws-sm-external-secret.yaml")),
        provider="aws-sm",
        features=("gjson-property", "metadataPolicy-fetch", "assume-role"),
        remote={
            "friendslist": AwsSecret(FRIENDSLIST),
            "database-credentials": AwsSecret(f'{{"password":"{CANARY}"}}', tags=TAGS),
        },
        expect=(
            SecretOut(
                "friends",
                {
                    "my_name": b"Tom",  # the snippet's comments: "# Tom", "# Roger"
                    "first_friend": b"Roger",
                    "tags": TAGS_JSON,  # every tag, as JSON (SecretTagsToJSONString)
                    "developer": b"jdoe",  # the tag "dev"
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-sm-version-stages",
        sources=(AWS_SM_STORE, Upstream(SM_MD, block=6)),
        provider="aws-sm",
        features=("version-stage", "AWSPREVIOUS"),
        remote={"production/api-key": AwsSecret(f"api-key-new-{CANARY}", earlier=(f"api-key-old-{CANARY}",))},
        # the page: "the operator will request the same secret with different versions"
        expect=(
            SecretOut(
                "versioned-api-key",
                {
                    "previous-api-key": f"api-key-old-{CANARY}".encode(),
                    "current-api-key": f"api-key-new-{CANARY}".encode(),
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-sm-basic-example",
        sources=(BASIC_STORE, BASIC_ES),
        provider="aws-sm",
        features=("version-stage", "property", "extract", "extract-non-string"),
        remote={
            "provider-key": PROVIDER_KEY,
            # compact JSON: a number and an object come out as their raw text, which here is compact
            "remote-key-in-the-provider": AwsSecret(
                f'{{"username":"app","password":"{CANARY}","port":5432,"options":{{"ssl":true}}}}'
            ),
        },
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    "secret-key-to-be-managed": f"staged-{CANARY}".encode(),
                    "username": b"app",
                    "password": CANARY.encode(),
                    "port": b"5432",
                    "options": b'{"ssl":true}',
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-sm-extract-raw-json",
        sources=(BASIC_STORE, BASIC_ES),
        provider="aws-sm",
        features=("extract", "extract-raw-json"),
        # the pages' friendslist, extracted: GetSecretMap keeps each non-string value's raw text
        # (json.RawMessage), spaces and newlines as stored
        remote={"provider-key": PROVIDER_KEY, "remote-key-in-the-provider": AwsSecret(FRIENDSLIST)},
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    "secret-key-to-be-managed": f"staged-{CANARY}".encode(),
                    "name": b'{"first": "Tom", "last": "Anderson"}',
                    "friends": FRIENDS_RAW,
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-sm-find-by-name",
        sources=(BASIC_STORE, Upstream("docs/snippets/getallsecrets-find-by-name.yaml")),
        provider="aws-sm",
        features=("find-name", "key-conversion", "binary"),
        remote={
            # docs/guides/getallsecrets.md's three secrets and its output (each value Cg==, "\n")
            "/path/key1": AwsSecret("\n"),
            "key2/path": AwsSecret("\n"),
            "path/to/keyring": AwsSecret("\n"),
            # a SecretBinary matches too: its bytes as they are
            "keystore.jks": AwsSecret(b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + CANARY.encode()),
            "db-password": AwsSecret(CANARY),  # no "key" in the name
        },
        expect=(
            SecretOut(
                "secret-to-be-created",
                {
                    "_path_key1": b"\n",
                    "key2_path": b"\n",
                    "path_to_keyring": b"\n",
                    "keystore.jks": b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + CANARY.encode(),
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-sm-find-by-tags",
        sources=(BASIC_STORE, Upstream("docs/snippets/getallsecrets-find-by-tags.yaml")),
        provider="aws-sm",
        features=("find-tags", "key-conversion"),
        completions=FIND_BY_TAGS_V1,
        remote={
            "app/db": AwsSecret(f'{{"password":"{CANARY}"}}', tags=PROD_APP),
            "app/dev-db": AwsSecret("dev", tags={"environment": "dev", "application": "app-name"}),
            "app/other": AwsSecret("other", tags={"environment": "prod"}),
        },
        # the guide: "any secrets containing all of the metadata labels in the tags parameter"
        expect=(SecretOut("secret-to-be-created", {"app_db": f'{{"password":"{CANARY}"}}'.encode()}),),
    ),
    EsoCase(
        id="aws-sm-find-by-tags-prefix",
        sources=(BASIC_STORE, Upstream("docs/snippets/getallsecrets-find-by-tags.yaml")),
        provider="aws-sm",
        features=("find-tags", "aws-filter-prefix"),
        completions=FIND_BY_TAGS_V1,
        remote={
            "app/db": AwsSecret("exact", tags=PROD_APP),
            "app/db-production": AwsSecret("prefix", tags={**PROD_APP, "environment": "production"}),
        },
        # The guide says "all of the metadata labels"; ESO's code (findByTags -> fetchWithBatch)
        # sends them as BatchGetSecretValue filters tag-key=environment, tag-value=prod, ..., which
        # AWS matches by prefix: "production" matches "prod", so ESO syncs both secrets.
        expect=(SecretOut("secret-to-be-created", {"app_db": b"exact", "app_db-production": b"prefix"}),),
    ),
    EsoCase(
        id="aws-anchore",
        sources=(Upstream("docs/snippets/aws-anchore-engine-access-credentials-external-secret.yaml"),),
        provider="aws-sm",
        features=("extract", "cluster-store"),
        extra=(CLUSTER_SM,),
        remote={
            "service/anchore-engine/engineAccess": AwsSecret(
                f'{{"ANCHORE_ADMIN_USERNAME":"admin","ANCHORE_ADMIN_PASSWORD":"a-{CANARY}",'
                f'"ANCHORE_DB_PASSWORD":"d-{CANARY}"}}'
            )
        },
        expect=(
            SecretOut(
                "anchore-access-credentials",
                {
                    "ANCHORE_ADMIN_USERNAME": b"admin",
                    "ANCHORE_ADMIN_PASSWORD": f"a-{CANARY}".encode(),
                    "ANCHORE_DB_PASSWORD": f"d-{CANARY}".encode(),
                },
            ),
        ),
    ),
    EsoCase(
        id="aws-jenkins-github-ssh",
        sources=(Upstream("docs/snippets/aws-jenkins-credential-github-ssh-external-secret.yaml"),),
        provider="aws-ssm",
        features=("template-metadata", "cluster-store", "leading-slash-key"),
        extra=(CLUSTER_PS,),
        remote={
            "/service/github/sshUserPrivateKeyUserName": Parameter("git", type="String"),
            "/service/github/sshUserPrivateKey": Parameter(SSH_KEY),
        },
        # docs/examples/jenkins-kubernetes-credentials.md: the template's metadata only, data as fetched
        expect=(
            SecretOut(
                "github-ssh-access",
                {"username": b"git", "privateKey": SSH_KEY.encode()},
                labels={"jenkins.io/credentials-type": "basicSSHUserPrivateKey"},
                annotations={"jenkins.io/credentials-description": "github-ssh-access key"},
            ),
        ),
    ),
    EsoCase(
        id="aws-jenkins-sonarqube-binary",
        sources=(Upstream("docs/snippets/aws-jenkins-credential-sonarqube-api-token-external-secret.yaml"),),
        provider="aws-sm",
        features=("template-metadata", "cluster-store", "binary"),
        extra=(CLUSTER_SM,),
        # stored with --secret-binary: GetSecret returns SecretBinary's bytes as they are
        remote={"service/sonarqube/apiToken": AwsSecret(f"squ_{CANARY}".encode())},
        expect=(
            SecretOut(
                "sonarqube-api-token",
                {"text": f"squ_{CANARY}".encode()},
                labels={"jenkins.io/credentials-type": "secretText"},
                annotations={"jenkins.io/credentials-description": "Sonar API token"},
            ),
        ),
    ),
    EsoCase(
        id="aws-jenkins-harbor",
        sources=(Upstream("docs/snippets/aws-jenkins-credentials-harbor-chart-robot-external-secret.yaml"),),
        provider="aws-sm",
        features=("template-metadata", "cluster-store", "property"),
        extra=(CLUSTER_SM,),
        remote={
            "service/harbor/chartRobot": AwsSecret(
                f'{{"username": "robot$chart", "password": "harbor-{CANARY}", "expires": 1767225600}}'
            )
        },
        expect=(
            SecretOut(
                "harbor-chart-robot",
                {"password": f"harbor-{CANARY}".encode(), "username": b"robot$chart"},
                labels={"jenkins.io/credentials-type": "usernamePassword"},
                annotations={"jenkins.io/credentials-description": "harbor chart robot access"},
            ),
        ),
    ),
    EsoCase(
        id="aws-ssm-json-and-tags",
        sources=(AWS_PS_STORE, Upstream(PS_MD, block=1)),
        provider="aws-ssm",
        features=("gjson-property", "metadataPolicy-fetch", "assume-role", "default-target-name"),
        # the page's ExternalSecret has "# [omitted for brevity]" for the rest of spec: the
        # page's own store, parameterstore
        completions={"ExternalSecret/extract-data:spec.secretStoreRef": ref("parameterstore")},
        remote={
            "friendslist": Parameter(FRIENDSLIST, type="String"),
            "database-credentials": Parameter(f'{{"password":"{CANARY}"}}', tags=TAGS),
        },
        expect=(
            SecretOut(
                "extract-data",  # no target.name: the ExternalSecret's name
                {
                    "my_name": b"Tom",  # the page's comments: "# Tom", "# Roger"
                    "first_friend": b"Roger",
                    "tags": TAGS_JSON,  # ParameterTagsToJSONString
                    "developer": b"jdoe",
                },
            ),
        ),
    ),
)
