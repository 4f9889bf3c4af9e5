#!/usr/bin/env python3
"""An independent checker of cosign's key-based "simple signing" signatures, for
tests/publish.rs. Written from cosign's published description of its signature
format (docs/specs/SIGNATURE_SPEC.md in sigstore/cosign), sharing nothing with
strata's code:

- the signature of an image with manifest digest `sha256:H` is an OCI manifest
  tagged `sha256-H.sig` in the same repository;
- each of its layers of media type `application/vnd.dev.cosign.simplesigning.v1+json`
  is a JSON payload `{"critical": {"identity": {"docker-reference": ...},
  "image": {"docker-manifest-digest": "sha256:H"}, "type": "cosign container
  image signature"}, "optional": ...}`, and carries the annotation
  `dev.cosignproject.cosign/signature`: base64 of an ASN.1 DER ECDSA signature
  over the payload bytes (P-256, SHA-256).

Usage:
  publish_verifier.py verify REGISTRY REPOSITORY TAG PUBLIC_KEY_PEM   exit 0 signed, 1 not
  publish_verifier.py keypair DIR NAME [PASSWORD]
      writes DIR/NAME.pub (SPKI PEM) and DIR/NAME.key: a PKCS#8 PEM, or with
      PASSWORD cosign's encrypted format ("ENCRYPTED SIGSTORE PRIVATE KEY": JSON
      with scrypt N=32768 r=8 p=1 and a nacl/secretbox around the PKCS#8 DER).
The registry is spoken to over plain HTTP without authentication (a test registry).
"""

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PAYLOAD = "application/vnd.dev.cosign.simplesigning.v1+json"
ANNOTATION = "dev.cosignproject.cosign/signature"


def get(registry, path, accept=None):
    req = urllib.request.Request(f"http://{registry}/v2/{path}")
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req) as r:
        return r.read()


def verify(registry, repository, tag, key_path):
    with open(key_path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    manifest = get(registry, f"{repository}/manifests/{tag}", MANIFEST)
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    sig_tag = digest.replace(":", "-") + ".sig"
    try:
        sig_manifest = json.loads(get(registry, f"{repository}/manifests/{sig_tag}", MANIFEST))
    except urllib.error.HTTPError as e:
        if e.code == 404:
            print(f"no signature tag {sig_tag}")
            return 1
        raise
    for layer in sig_manifest.get("layers", []):
        if layer.get("mediaType") != PAYLOAD:
            continue
        payload = get(registry, f"{repository}/blobs/{layer['digest']}")
        if "sha256:" + hashlib.sha256(payload).hexdigest() != layer["digest"]:
            continue
        signature = base64.b64decode(layer.get("annotations", {}).get(ANNOTATION, ""))
        try:
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            print(f"layer {layer['digest']}: signature does not verify with {key_path}")
            continue
        critical = json.loads(payload)["critical"]
        if critical["type"] != "cosign container image signature":
            continue
        if critical["image"]["docker-manifest-digest"] != digest:
            print(f"layer {layer['digest']}: signs another digest")
            continue
        print(f"verified {digest}")
        return 0
    return 1


def keypair(directory, name, password=None):
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if password is None:
        text = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        import nacl.secret

        salt, n, r, p = os.urandom(32), 32768, 8, 1
        box_key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 << 20)
        box = nacl.secret.SecretBox(box_key)
        nonce = os.urandom(24)
        sealed = box.encrypt(der, nonce).ciphertext
        body = json.dumps(
            {
                "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": base64.b64encode(salt).decode()},
                "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
                "ciphertext": base64.b64encode(sealed).decode(),
            }
        ).encode()
        b64 = base64.b64encode(body).decode()
        lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
        text = f"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{lines}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n".encode()
    with open(os.path.join(directory, name + ".key"), "wb") as f:
        f.write(text)
    with open(os.path.join(directory, name + ".pub"), "wb") as f:
        f.write(pub)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.exit(verify(*sys.argv[2:6]))
    if sys.argv[1] == "keypair":
        sys.exit(keypair(*sys.argv[2:5]))
    sys.exit(2)
