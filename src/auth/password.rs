//! Passwords are stored only as argon2id PHC strings (salted, parameters inside the string),
//! so a stolen database gives no password and parameters can be raised later without a
//! migration: old hashes still verify.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("无法计算密码散列：{0}")]
    Hash(String),
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches a stored hash. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("政务公开2026!").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("政务公开2026!", &hash));
        assert!(!verify_password("政务公开2026?", &hash));
        assert!(!verify_password("政务公开2026!", "not a hash"));
        assert_ne!(hash, hash_password("政务公开2026!").expect("hash"), "salts differ");
    }
}
