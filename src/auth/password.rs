//! Passwords are stored only as argon2id PHC strings (salted, parameters inside the string),
//! so a stolen database gives no password and parameters can be raised later without a
//! migration: old hashes still verify.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2's message.
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
///
/// argon2's working memory (19 MiB at the default parameters) is kept per thread and reused,
/// rather than allocated for every check: the allocator would otherwise keep a freed copy in
/// each thread's arena, and a login flood would grow the process by that much per thread.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    WORKING_MEMORY.with(|memory| match memory.try_borrow_mut() {
        Ok(mut memory) => verify_in(password, &hash, &mut memory).unwrap_or(false),
        // Not reentrant in practice; fall back to the allocating check.
        Err(_) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
    })
}

thread_local! {
    static WORKING_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`verify_password`] with the caller's working memory; `None` for a hash it cannot read.
fn verify_in(password: &str, hash: &PasswordHash<'_>, memory: &mut Vec<argon2::Block>) -> Option<bool> {
    let expected = hash.hash?;
    let algorithm = argon2::Algorithm::try_from(hash.algorithm).ok()?;
    let version = match hash.version {
        Some(version) => argon2::Version::try_from(version).ok()?,
        None => argon2::Version::default(),
    };
    let params = argon2::Params::try_from(hash).ok()?;
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    memory.resize(params.block_count(), argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .ok()?;
    // `Output` compares in constant time.
    Some(argon2::password_hash::Output::new(&out).ok()? == expected)
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

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let params = argon2::Params::new(8 * 1024, 3, 1, Some(24)).expect("params");
        let argon = Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x10, params);
        let hash = argon.hash_password(b"old-style-password", &salt).expect("hash").to_string();
        assert!(verify_password("old-style-password", &hash), "{hash}");
        assert!(!verify_password("old-style-passw0rd", &hash));
        let default = hash_password("x-password-long").expect("hash");
        assert!(verify_password("x-password-long", &default), "the same thread's memory is reused");
    }
}
