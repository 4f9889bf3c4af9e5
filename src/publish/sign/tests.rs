use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

use super::*;

fn secret(seed: u8) -> p256::SecretKey {
    p256::SecretKey::from_slice(&[seed; 32]).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// cosign's encrypted key file, written the way cosign writes it (independently of [`decrypt`]).
fn encrypted_pem(secret: &p256::SecretKey, password: &str, label: &str) -> String {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let der = secret.to_pkcs8_der().unwrap();
    let (salt, nonce) = ([7u8; 32], [9u8; 24]);
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &scrypt::Params::new(15, 8, 1, 32).unwrap(), &mut key).unwrap();
    let ct = crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), der.as_bytes())
        .unwrap();
    let json = serde_json::json!({
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": BASE64.encode(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": BASE64.encode(nonce)},
        "ciphertext": BASE64.encode(ct),
    });
    let body = BASE64.encode(serde_json::to_vec(&json).unwrap());
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn keys_of_every_form_sign_what_the_public_key_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let s = secret(3);
    let public = write(dir.path(), "cosign.pub", &s.public_key().to_public_key_pem(LineEnding::LF).unwrap());
    let public = PublicKey::read(&public).unwrap();
    let plain = write(dir.path(), "plain.key", &s.to_pkcs8_pem(LineEnding::LF).unwrap());
    let new = write(dir.path(), "new.key", &encrypted_pem(&s, "pw", "ENCRYPTED SIGSTORE PRIVATE KEY"));
    let old = write(dir.path(), "old.key", &encrypted_pem(&s, "pw", "ENCRYPTED COSIGN PRIVATE KEY"));
    let payload = payload("127.0.0.1:5000/shop", &digest(b"manifest"));
    for path in [&plain, &new, &old] {
        let key = Key::read(path, Some("pw")).unwrap();
        let sig = key.sign(&payload);
        assert!(public.verifies(&payload, &sig), "{}", path.display());
        assert_eq!(key.sign(&payload), sig, "deterministic");
        assert!(!public.verifies(b"other", &sig));
    }
    let other = secret(4).public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let other = PublicKey::read(&write(dir.path(), "other.pub", &other)).unwrap();
    assert!(!other.verifies(&payload, &Key::read(&plain, None).unwrap().sign(&payload)));
}

#[test]
fn key_errors_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let enc = write(dir.path(), "cosign.key", &encrypted_pem(&secret(3), "pw", "ENCRYPTED SIGSTORE PRIVATE KEY"));
    let e = Key::read(&enc, None).unwrap_err();
    assert!(e.message.contains("COSIGN_PASSWORD"), "{}", e.message);
    let e = Key::read(&enc, Some("wrong")).unwrap_err();
    assert!(e.message.contains("wrong password") && e.message.contains("cosign.key"), "{}", e.message);
    let public = write(dir.path(), "cosign.pub", &secret(3).public_key().to_public_key_pem(LineEnding::LF).unwrap());
    let e = Key::read(&public, None).unwrap_err();
    assert!(e.message.contains("not a private key"), "{}", e.message);
    let e = PublicKey::read(&write(dir.path(), "x.pub", "hello")).unwrap_err();
    assert!(e.message.contains("no PEM block"), "{}", e.message);
}

#[test]
fn signature_layers_check_key_payload_and_digest() {
    let s = Key { signing: SigningKey::from(secret(5)), path: "k".into() };
    let public = s.public();
    let manifest_digest = digest(b"m");
    let payload = payload("r/x", &manifest_digest);
    let sig = s.sign(&payload);
    let (manifest, config) = signature_manifest(&payload, &sig, None);
    let m: Manifest = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m.config.digest, digest(&config));
    assert_eq!(m.layers.len(), 1);
    let layer = &m.layers[0];
    assert_eq!(layer.media_type, PAYLOAD_MEDIA_TYPE);
    assert_eq!(check_layer(layer, &payload, &public, &manifest_digest), None);
    let why = check_layer(layer, &payload, &public, &digest(b"other")).unwrap();
    assert!(why.contains("signs"), "{why}");
    let stranger = Key { signing: SigningKey::from(secret(6)), path: "s".into() }.public();
    assert!(check_layer(layer, &payload, &stranger, &manifest_digest).unwrap().contains("not one of"));
    // Signing again adds nothing; another key's signature is kept beside ours.
    let (again, _) = signature_manifest(&payload, &sig, Some(&m));
    assert_eq!(again, manifest);
    let other_sig = Key { signing: SigningKey::from(secret(6)), path: "s".into() }.sign(&payload);
    let (both, _) = signature_manifest(&payload, &other_sig, Some(&m));
    assert_eq!(serde_json::from_slice::<Manifest>(&both).unwrap().layers.len(), 2);
    assert_eq!(signature_tag(&manifest_digest), format!("sha256-{}.sig", &manifest_digest[7..]));
}
