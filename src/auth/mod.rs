//! Authentication: password hashing now; sessions, CSRF and API tokens arrive with the web
//! dashboard (issue #6).

mod password;

pub use password::{PasswordError, hash_password, verify_password};
