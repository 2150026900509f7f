"""The offline verifier: checks export files, their signed manifests, audit records' checksums and the chain of
nightly manifests, with no AWS credentials and no call to the service (docs/verify.md).

    python -m export_client.verifier file audit.csv --keys keys.json
    python -m export_client.verifier chain nightly/ --keys keys.json
    python -m export_client.verifier records audit.jsonl

The algorithms it recomputes are documented in docs/verify.md; the service computes the same ones (its own code:
this package imports nothing of the service), and both are tested against the vectors in tests/vectors/.
"""
