//! People who sign in, and what their role lets them do (DESIGN.md §2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::OrgCode;

/// A role decides what an account sees and may change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The disclosure office (领导小组办公室): manages everything.
    Office,
    /// Leadership group members: read everything, edit nothing.
    Leader,
    /// Special inspectors (特邀监察员), each in a group.
    Inspector,
    /// One unit's contact: sees only that unit.
    Unit,
}

impl Role {
    /// Every role, from the widest view to the narrowest.
    pub const ALL: [Role; 4] = [Role::Office, Role::Leader, Role::Inspector, Role::Unit];

    /// The name stored, typed on the command line and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Office => "office",
            Role::Leader => "leader",
            Role::Inspector => "inspector",
            Role::Unit => "unit",
        }
    }

    /// The role's Chinese name, as the dashboard shows it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Office => "公开办",
            Role::Leader => "领导小组",
            Role::Inspector => "特邀监察员",
            Role::Unit => "单位联系人",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("角色“{s}”无效，应为 office、leader、inspector、unit 之一"))
    }
}

/// An account as the rest of the program sees it: never with its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Account {
    /// The sign-in name: 3–32 letters, digits or `. _ -`, unique.
    pub username: String,
    /// What the account may see and do.
    pub role: Role,
    /// The unit a `unit` account belongs to.
    pub unit: Option<OrgCode>,
    /// The group an `inspector` belongs to; its assigned units come from the group.
    pub inspector_group: Option<String>,
    /// The person's name as the dashboard greets them (姓名), if given.
    pub display_name: Option<String>,
    /// A disabled account cannot sign in, and its API tokens are refused.
    pub disabled: bool,
}

/// Why an account cannot be created as described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The username is not 3–32 letters, digits or `. _ -`.
    #[error("用户名须为 3–32 个字母、数字或 . _ -")]
    Username,
    /// A unit account was given no unit.
    #[error("单位联系人账号须用 --unit 指定所属单位")]
    UnitMissing,
    /// A unit was given for an account that is not a unit account.
    #[error("只有单位联系人账号属于某个单位")]
    UnitNotAllowed,
    /// An inspector account was given no group.
    #[error("特邀监察员账号须用 --group 指定所在小组")]
    GroupMissing,
    /// A group was given for an account that is not an inspector.
    #[error("只有特邀监察员账号属于某个小组")]
    GroupNotAllowed,
    /// The password is shorter than the minimum (held) or equals the username.
    #[error("密码至少 {0} 个字符，且不能与用户名相同")]
    WeakPassword(usize),
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

impl Account {
    /// Checks that the role and its binding agree: a unit account has a unit, an inspector a
    /// group, and no one else either — so a unit account can never be created unbound.
    pub fn validate(&self) -> Result<(), AccountError> {
        let name_ok = (3..=32).contains(&self.username.chars().count())
            && self.username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !name_ok {
            return Err(AccountError::Username);
        }
        match (self.role, &self.unit, &self.inspector_group) {
            (Role::Unit, None, _) => Err(AccountError::UnitMissing),
            (Role::Inspector, _, None) => Err(AccountError::GroupMissing),
            (Role::Office | Role::Leader | Role::Inspector, Some(_), _) => Err(AccountError::UnitNotAllowed),
            (Role::Office | Role::Leader | Role::Unit, _, Some(_)) => Err(AccountError::GroupNotAllowed),
            _ => Ok(()),
        }
    }

    /// A password this account may use.
    pub fn check_password(&self, password: &str) -> Result<(), AccountError> {
        if password.chars().count() < MIN_PASSWORD_CHARS || password == self.username {
            return Err(AccountError::WeakPassword(MIN_PASSWORD_CHARS));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(role: Role, unit: bool, group: bool) -> Account {
        Account {
            username: "zhang.san".into(),
            role,
            unit: unit.then(|| super::super::synthetic_credit_code("450100", 1).expect("code")),
            inspector_group: group.then(|| "第一组".to_string()),
            display_name: None,
            disabled: false,
        }
    }

    #[test]
    fn roles_and_bindings_must_agree() {
        assert_eq!(account(Role::Unit, false, false).validate(), Err(AccountError::UnitMissing));
        assert_eq!(account(Role::Unit, true, false).validate(), Ok(()));
        assert_eq!(account(Role::Inspector, false, false).validate(), Err(AccountError::GroupMissing));
        assert_eq!(account(Role::Inspector, false, true).validate(), Ok(()));
        assert_eq!(account(Role::Leader, true, false).validate(), Err(AccountError::UnitNotAllowed));
        assert_eq!(account(Role::Office, false, true).validate(), Err(AccountError::GroupNotAllowed));
        assert_eq!(account(Role::Office, false, false).validate(), Ok(()));
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        let mut a = account(Role::Office, false, false);
        a.username = "张三".into();
        assert_eq!(a.validate(), Err(AccountError::Username));
        let a = account(Role::Office, false, false);
        assert!(a.check_password("short").is_err());
        assert!(a.check_password("zhang.san").is_err());
        assert!(a.check_password("一二三四五六七八九十").is_ok(), "length counts characters");
    }
}
