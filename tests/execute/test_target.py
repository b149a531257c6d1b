from __future__ import annotations

from orchestrator.cluster import client_security, existing_cluster
from orchestrator.plan.models import ExistingTarget, Security


def test_plaintext_needs_only_the_protocol() -> None:
    assert client_security(Security()) == ({"security.protocol": "PLAINTEXT"}, {})


def test_sasl_password_stays_an_env_reference() -> None:
    security = Security(protocol="SASL_SSL", sasl={"mechanism": "SCRAM-SHA-512", "username": "u", "password_env": "PW"},
                        ssl={"ca_file": "/ca.pem", "verify_hostname": False})
    config, secrets = client_security(security)
    assert config == {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u",
                      "ssl.ca.location": "/ca.pem", "ssl.endpoint.identification.algorithm": "none"}
    assert secrets == {"sasl.password": "PW"}


def test_ssl_key_and_keystore_passwords_are_env_references() -> None:
    security = Security(protocol="SSL", ssl={"cert_file": "/c.pem", "key_file": "/k.pem", "key_password_env": "KP",
                                             "keystore_file": "/ks.p12", "keystore_password_env": "KSP"})
    config, secrets = client_security(security)
    assert config["ssl.key.location"] == "/k.pem" and config["ssl.keystore.location"] == "/ks.p12"
    assert secrets == {"ssl.key.password": "KP", "ssl.keystore.password": "KSP"}


def test_existing_cluster_lists_each_bootstrap_server() -> None:
    cluster = existing_cluster(ExistingTarget(kind="existing", bootstrap_servers=["10.0.0.1:9092", "10.0.0.2:9092"]))
    assert cluster.bootstrap_servers == "10.0.0.1:9092,10.0.0.2:9092"
    assert [(b.node_id, b.host, b.pid) for b in cluster.brokers] == [(0, "10.0.0.1", None), (1, "10.0.0.2", None)]
