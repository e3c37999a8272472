//! One demo account per role, with a fresh random password each time the demo is built: the
//! demo serves on loopback, but a guessable password would still be a bad habit to show.

use rand::Rng;
use rand::rngs::OsRng;

use crate::auth::hash_password;
use crate::model::{Account, OrgCode, Role};
use crate::store::{AuditEntry, Store};

use super::{DEMO_ACTOR, DemoError};

/// Characters of generated passwords: letters and digits that cannot be misread (no 0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const PASSWORD_CHARS: usize = 16;

/// A demo account with its password in clear, for the command line to print once.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// The sign-in name, fixed (e.g. `demo-office`).
    pub username: String,
    /// The account's role; the demo makes one account per role.
    pub role: Role,
    /// The generated password, 16 characters; printed once, never stored in clear.
    pub password: String,
    /// The unit of the `unit` account.
    pub unit: Option<OrgCode>,
    /// The group of the `inspector` account.
    pub group: Option<String>,
    /// The person's name the dashboard greets.
    pub display_name: String,
}

impl std::fmt::Debug for DemoAccount {
    /// Never prints the password, so that a debug log of the demo city does not leak it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoAccount")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("unit", &self.unit)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// A random password from [`PASSWORD_ALPHABET`].
pub(super) fn random_password() -> String {
    let mut rng = OsRng;
    (0..PASSWORD_CHARS)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// Creates the office, leader, inspector (in `group`) and unit (of `unit`) accounts.
pub(super) async fn create_accounts(
    store: &Store,
    group: &str,
    unit: &OrgCode,
    unit_name: &str,
) -> Result<Vec<DemoAccount>, DemoError> {
    let planned = [
        ("demo-office", Role::Office, None, None, "演示账号（公开办）".to_owned()),
        ("demo-leader", Role::Leader, None, None, "演示账号（领导小组）".to_owned()),
        (
            "demo-inspector",
            Role::Inspector,
            None,
            Some(group.to_owned()),
            format!("演示账号（特邀监察员·{group}）"),
        ),
        ("demo-unit", Role::Unit, Some(unit.clone()), None, format!("演示账号（{unit_name}）")),
    ];
    let mut created = Vec::with_capacity(planned.len());
    for (username, role, unit, group, display_name) in planned {
        let account = Account {
            username: username.to_owned(),
            role,
            unit: unit.clone(),
            inspector_group: group.clone(),
            display_name: Some(display_name.clone()),
            disabled: false,
        };
        let password = random_password();
        account.validate().map_err(|e| DemoError::Account(e.to_string()))?;
        account.check_password(&password).map_err(|e| DemoError::Account(e.to_string()))?;
        let hash = hash_password(&password).map_err(|e| DemoError::Account(e.to_string()))?;
        let audit = AuditEntry::new(DEMO_ACTOR, "account.create")
            .target(username)
            .detail(serde_json::json!({ "role": role.as_str(), "demo": true }));
        store.create_account(&account, &hash, audit).await.map_err(|e| DemoError::Account(e.to_string()))?;
        created.push(DemoAccount {
            username: username.to_owned(),
            role,
            password,
            unit,
            group,
            display_name,
        });
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_unambiguous() {
        let a = random_password();
        assert_eq!(a.chars().count(), PASSWORD_CHARS);
        assert!(a.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert_ne!(a, random_password());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let account = DemoAccount {
            username: "demo-office".into(),
            role: Role::Office,
            password: "secret-password-x".into(),
            unit: None,
            group: None,
            display_name: String::new(),
        };
        assert!(!format!("{account:?}").contains("secret-password-x"));
    }
}
